//! `chaos proxy`: one interposer standalone, in front of any HTTP upstream, applying faults
//! given on the command line, until Ctrl-C; then prints what it saw. It serves on a
//! current-thread runtime per CPU (`--threads`), each with its own listener and upstream pool.

use std::{collections::BTreeMap, io::Write};

use super::{interrupted, invalid};
use crate::{
    cli::ProxyArgs,
    fault::Chain,
    metrics::{Recorder, RunClock},
    proxy::{self, InterposerConfig},
    scenario,
    wire::ApiFamily,
    Exit,
};

/// Runs the interposer the arguments ask for.
pub async fn proxy(args: &ProxyArgs) -> anyhow::Result<Exit> {
    let family = if args.family == "anthropic" { ApiFamily::Anthropic } else { ApiFamily::OpenAi };
    let upstream: http::Uri = match args.upstream.parse() {
        Ok(uri) => uri,
        Err(error) => {
            eprintln!(
                "error: --upstream {}: {error}; expected a URL like http://127.0.0.1:9001",
                args.upstream
            );
            return Ok(Exit::InvalidScenario);
        }
    };
    if upstream.scheme_str() != Some("http") {
        eprintln!("error: --upstream must be an http:// URL (HTTPS upstreams are not supported yet)");
        return Ok(Exit::InvalidScenario);
    }
    let loopback_upstream = upstream.host().is_some_and(|host| {
        host == "localhost"
            || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    let on_loopback = crate::net::is_loopback(&args.listen) && loopback_upstream;
    if !on_loopback && !args.faults.allow_non_loopback {
        eprintln!("error: the listen address and the upstream must be loopback; pass --allow-non-loopback to go beyond this machine");
        return Ok(Exit::InvalidScenario);
    }
    let mut rules = Vec::new();
    for text in &args.faults.fault {
        match scenario::parse_fault(text, family) {
            Ok(rule) => rules.push(rule),
            Err(error) => return Ok(invalid(&error)),
        }
    }
    let recorder = Recorder::new();
    let config = InterposerConfig {
        upstream_index: 0,
        upstream_uri: upstream.clone(),
        family,
        keys: Vec::new(),
        clock: RunClock::start_now(),
        recorder: recorder.clone(),
        replay: None,
    };
    let interposer = proxy::spawn_sharded(args.listen, args.threads.count(), config)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    interposer.set_chain(0, Chain::new(rules, args.faults.seed));
    println!("{family} interposer listening on http://{} → {upstream}", interposer.addr);
    let _ = std::io::stdout().flush();
    interrupted().await;
    interposer.shutdown().await;
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for attempt in recorder.snapshot().attempts {
        let key = if attempt.injected {
            format!("{} (injected)", attempt.outcome.key())
        } else {
            attempt.outcome.key()
        };
        *outcomes.entry(key).or_insert(0) += 1;
    }
    println!("attempts: {}", serde_json::to_string(&outcomes).unwrap_or_default());
    Ok(Exit::Pass)
}
