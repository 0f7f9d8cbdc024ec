//! `chaos proxy`: one interposer standalone, in front of any HTTP upstream, applying faults
//! given on the command line, until Ctrl-C; then prints what it saw. It serves on a
//! current-thread runtime per CPU (`--threads`), each with its own listener and upstream pool.

use std::{collections::BTreeMap, io::Write};

use super::{interrupted, invalid};
use crate::{
    cli::ProxyArgs,
    fault::Chain,
    metrics::{Recorder, RunClock},
    proxy::{self, tls::UpstreamTls, InterposerConfig},
    scenario,
    wire::ApiFamily,
    Exit,
};

/// Runs the interposer the arguments ask for.
pub async fn proxy(args: &ProxyArgs) -> anyhow::Result<Exit> {
    // clap has taken only the families' names.
    let family = ApiFamily::NAMES
        .iter()
        .find(|(name, _)| *name == args.family)
        .map_or(ApiFamily::OpenAi, |(_, family)| *family);
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
    if !matches!(upstream.scheme_str(), Some("http" | "https")) || upstream.host().is_none() {
        eprintln!("error: --upstream {}: expected an http:// or https:// URL with a host", args.upstream);
        return Ok(Exit::InvalidScenario);
    }
    let tls = match UpstreamTls::trusting(args.upstream_ca.as_deref()) {
        Ok(tls) => tls,
        Err(error) => {
            eprintln!("error: --upstream-ca {error}");
            return Ok(Exit::InvalidScenario);
        }
    };
    let loopback_upstream = upstream.host().is_some_and(crate::loopback::is_loopback_host);
    let on_loopback = crate::loopback::is_loopback(&args.listen) && loopback_upstream;
    if !on_loopback && !args.faults.allow_non_loopback {
        eprintln!("error: the listen address and the upstream must be loopback; pass --allow-non-loopback to go beyond this machine");
        return Ok(Exit::InvalidScenario);
    }
    if args.bare_relay {
        return bare_relay(args, &upstream).await;
    }
    let mut rules = Vec::new();
    for text in &args.faults.fault {
        match scenario::parse_fault(text, family) {
            Ok(rule) => rules.push(rule),
            Err(error) => return Ok(invalid(&error)),
        }
    }
    let recorder = Recorder::folding(Vec::new());
    let config = InterposerConfig {
        upstream_index: 0,
        upstream_uri: upstream.clone(),
        family,
        keys: Vec::new(),
        clock: RunClock::start_now(),
        recorder: recorder.clone(),
        replay: None,
        tls,
        upstream_key: None,
        connections: args.connections.limits(),
    };
    let interposer = proxy::spawn_sharded(args.listen, args.threads.count(), config)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    interposer.set_chain(0, Chain::new(rules, args.faults.seed));
    println!("{family} interposer listening on http://{} → {upstream}", interposer.addr);
    let _ = std::io::stdout().flush();
    interrupted().await;
    let connections = interposer.connection_counts();
    interposer.shutdown().await;
    // Counted from the per-second tallies: a proxy left running for a day keeps no record per
    // attempt.
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    recorder.with_aggregate(|aggregate| {
        for (kind, count) in aggregate.attempt_timeline.seconds().iter().flat_map(|second| &second.counts) {
            let key = match kind.injected {
                true => format!("{} (injected)", kind.outcome.key()),
                false => kind.outcome.key(),
            };
            *outcomes.entry(key).or_insert(0) += count;
        }
    });
    println!("attempts: {}", serde_json::to_string(&outcomes).unwrap_or_default());
    println!("{}", super::connections_line(connections));
    Ok(Exit::Pass)
}

/// `--bare-relay`: the floor `chaos bench` measures the interposer's added latency against.
async fn bare_relay(args: &ProxyArgs, upstream: &http::Uri) -> anyhow::Result<Exit> {
    let Some(origin) = crate::net::http1::Origin::of_http(upstream) else {
        eprintln!("error: --bare-relay copies bytes and speaks no TLS; expected an http:// upstream, not {upstream}");
        return Ok(Exit::InvalidScenario);
    };
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::net::lookup_host((origin.host.as_str(), origin.port)).await {
            Ok(addrs) => addrs.collect(),
            Err(_) => Vec::new(),
        };
    if addrs.is_empty() {
        eprintln!("error: --upstream {upstream}: cannot resolve {}", origin.host);
        return Ok(Exit::InvalidScenario);
    }
    let relay = proxy::bare_relay::serve(args.listen, addrs, args.threads.count())
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    println!("bare relay listening on http://{} → {upstream} (no HTTP, no faults)", relay.addr);
    let _ = std::io::stdout().flush();
    interrupted().await;
    relay.shutdown().await;
    Ok(Exit::Pass)
}
