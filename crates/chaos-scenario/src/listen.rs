//! Where each upstream's interposer listens: `listen: 127.0.0.1:9101` in the scenario, or
//! `chaos run --listen NAME=ADDR` over it, so a gateway configured in advance can be pointed at
//! it. The default, `127.0.0.1:0`, takes any free port. An address must be an IP and a port, on
//! loopback unless the run allows remote addresses, and no two upstreams may share a fixed one.

use std::net::SocketAddr;

use serde_saphyr::Spanned;

use crate::{
    located::{Checked, Located},
    loopback::is_loopback,
};

/// Where an interposer listens when nothing says otherwise: any free port on loopback.
pub const ANY_LOOPBACK_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Why a listen address cannot be used, without where it was written.
pub fn refusal(text: &str, allow_remote: bool) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        format!("`{text}` is not an address to listen on; expected an IP and a port, like `127.0.0.1:9101`")
    })?;
    if !allow_remote && !is_loopback(&addr) {
        return Err(format!(
            "`{addr}` is not a loopback address: an interposer listens on 127.0.0.1 or [::1] unless \
             the run allows remote addresses (`allow_remote: true` on the target, or `--allow-remote`)"
        ));
    }
    Ok(addr)
}

/// The checked `listen:` of each upstream, in the scenario's order.
pub(crate) fn listen_addresses(
    written: &[Option<&Spanned<String>>],
    allow_remote: bool,
) -> Checked<Vec<SocketAddr>> {
    let mut addresses: Vec<SocketAddr> = Vec::with_capacity(written.len());
    for listen in written {
        let Some(listen) = listen else {
            addresses.push(ANY_LOOPBACK_PORT);
            continue;
        };
        let addr =
            refusal(&listen.value, allow_remote).map_err(|why| Located::at(&listen.referenced, why))?;
        if let Some(shared) = shared_port(&addresses, addr) {
            let message = format!("`{addr}` is already the `listen` of another upstream ({shared})");
            return Err(Located::at(&listen.referenced, message));
        }
        addresses.push(addr);
    }
    Ok(addresses)
}

/// A fixed address among `taken` that `addr` would collide with (port 0 collides with none).
pub fn shared_port(taken: &[SocketAddr], addr: SocketAddr) -> Option<SocketAddr> {
    (addr.port() != 0).then(|| taken.iter().copied().find(|other| *other == addr)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_and_a_port_on_loopback_unless_remote_is_allowed() {
        assert_eq!(refusal("127.0.0.1:9101", false), Ok("127.0.0.1:9101".parse().unwrap()));
        assert_eq!(refusal("[::1]:0", false), Ok("[::1]:0".parse().unwrap()));
        assert!(refusal("localhost:9101", false).unwrap_err().contains("an IP and a port"));
        assert!(refusal("0.0.0.0:9101", false).unwrap_err().contains("not a loopback address"));
        assert_eq!(refusal("0.0.0.0:9101", true), Ok("0.0.0.0:9101".parse().unwrap()));
    }

    #[test]
    fn two_upstreams_never_share_a_fixed_port_but_may_both_take_any() {
        let taken = ["127.0.0.1:9101".parse().unwrap(), ANY_LOOPBACK_PORT];
        assert_eq!(shared_port(&taken, "127.0.0.1:9101".parse().unwrap()), Some(taken[0]));
        assert_eq!(shared_port(&taken, ANY_LOOPBACK_PORT), None);
        assert_eq!(shared_port(&taken, "127.0.0.1:9102".parse().unwrap()), None);
    }
}
