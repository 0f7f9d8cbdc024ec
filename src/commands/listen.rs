//! `chaos run --listen NAME=ADDR`: where upstream NAME's interposer listens, over the
//! scenario's `listen:`, checked by the same rules (an IP and a port, loopback unless remote
//! addresses are allowed, no fixed address twice).

use std::net::SocketAddr;

use crate::scenario::{listen, Plan};

/// Sets each `NAME=ADDR` of `pairs` on `plan`, or says what is wrong with the first bad one.
pub fn apply(plan: &mut Plan, pairs: &[String], allow_remote: bool) -> Result<(), String> {
    for pair in pairs {
        let Some((name, addr)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not NAME=ADDR, like `openai=127.0.0.1:9101`"));
        };
        let addr = listen::refusal(addr, allow_remote)?;
        let names: Vec<&str> = plan.upstreams.iter().map(|u| u.name.as_str()).collect();
        let Some(index) = names.iter().position(|known| *known == name.trim()) else {
            return Err(format!("no upstream is named `{name}`; the scenario has: {}", names.join(", ")));
        };
        let others: Vec<SocketAddr> =
            plan.upstreams.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, u)| u.listen).collect();
        if let Some(shared) = listen::shared_port(&others, addr) {
            return Err(format!("`{addr}` is already where another upstream listens ({shared})"));
        }
        plan.upstreams[index].listen = addr;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        crate::test_support::plan("  - { name: only, duration: 1s }", "")
    }

    #[test]
    fn a_pair_sets_the_upstreams_address_and_a_bad_one_is_named() {
        let mut plan = plan();
        apply(&mut plan, &["openai=127.0.0.1:9101".into()], false).expect("valid");
        assert_eq!(plan.upstreams[0].listen, "127.0.0.1:9101".parse().unwrap());
        let unknown = apply(&mut plan, &["claude=127.0.0.1:9102".into()], false).unwrap_err();
        assert!(unknown.contains("no upstream is named `claude`") && unknown.contains("openai"), "{unknown}");
        assert!(apply(&mut plan, &["openai".into()], false).unwrap_err().contains("NAME=ADDR"));
        assert!(apply(&mut plan, &["openai=10.0.0.1:80".into()], false).unwrap_err().contains("loopback"));
    }
}
