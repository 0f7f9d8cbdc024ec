//! `chaos mock`: serves any mix of mock providers standalone, printing their addresses, until
//! Ctrl-C; then prints what each received. Each mock serves on a current-thread runtime per
//! CPU (`--threads`), each with its own listener on the mock's address.

use std::{io::Write, net::SocketAddr};

use super::{interrupted, invalid};
use crate::{
    cli::MockArgs,
    mock::{LatencyModel, MockBuilder, MockHandle, RateLimits, COUNTS_PATH, TIMING_PATH},
    scenario,
    wire::ApiFamily,
    Exit,
};

/// Whether a fault parses for some other family in `families`.
fn fits_another(text: &str, family: ApiFamily, families: &[ApiFamily]) -> bool {
    families.iter().any(|other| *other != family && scenario::parse_fault(text, *other).is_ok())
}

/// What a mock lists when `--model` is not given.
fn default_models(family: ApiFamily) -> Vec<String> {
    let models: &[&str] = match family {
        ApiFamily::OpenAi | ApiFamily::Azure => &["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"],
        ApiFamily::Anthropic => &["claude-haiku-4-5", "claude-sonnet-4-5", "claude-3-5-haiku-latest"],
        ApiFamily::Bedrock => &["anthropic.claude-3-5-sonnet-20240620-v1:0", "amazon.nova-lite-v1:0"],
        ApiFamily::Gemini => &["gemini-2.0-flash", "gemini-2.5-flash", "gemini-2.5-pro"],
    };
    models.iter().map(|m| (*m).to_owned()).collect()
}

/// The latency model the arguments ask for.
fn latency_of(args: &MockArgs) -> LatencyModel {
    LatencyModel {
        ttft: args.ttft.map_or(std::time::Duration::ZERO, |t| t.0),
        tokens_per_second: args.tokens_per_second.unwrap_or(f64::INFINITY),
        jitter: args.jitter.map_or(0.0, |j| j.0),
    }
}

/// `--bare-streams`: the floor `chaos bench` measures the mock's stream timing against.
async fn bare_streams(args: &MockArgs) -> anyhow::Result<Exit> {
    let mut servers = Vec::new();
    for addr in &args.openai {
        let server = crate::mock::bare::serve(*addr, latency_of(args), args.threads.count())
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        println!("bare OpenAI streams on http://{} (no HTTP stack; timing at {TIMING_PATH})", server.addr);
        servers.push(server);
    }
    let _ = std::io::stdout().flush();
    interrupted().await;
    for server in servers {
        server.shutdown().await;
    }
    Ok(Exit::Pass)
}

/// Runs the mocks the arguments ask for.
pub async fn mock(args: &MockArgs) -> anyhow::Result<Exit> {
    let wanted: Vec<(ApiFamily, SocketAddr)> = args
        .openai
        .iter()
        .map(|addr| (ApiFamily::OpenAi, *addr))
        .chain(args.anthropic.iter().map(|addr| (ApiFamily::Anthropic, *addr)))
        .chain(args.azure.iter().map(|addr| (ApiFamily::Azure, *addr)))
        .chain(args.gemini.iter().map(|addr| (ApiFamily::Gemini, *addr)))
        .chain(args.bedrock.iter().map(|addr| (ApiFamily::Bedrock, *addr)))
        .collect();
    if wanted.is_empty() {
        eprintln!(
            "error: nothing to serve; give --openai, --anthropic, --azure, --gemini and/or --bedrock ADDR (port 0 picks a free port)"
        );
        return Ok(Exit::InvalidScenario);
    }
    if let Some((_, addr)) = wanted.iter().find(|(_, addr)| !crate::loopback::is_loopback(addr)) {
        if !args.faults.allow_non_loopback {
            eprintln!("error: {addr} is not a loopback address; pass --allow-non-loopback to serve beyond this machine");
            return Ok(Exit::InvalidScenario);
        }
    }
    if args.bare_streams {
        return bare_streams(args).await;
    }
    let families: Vec<ApiFamily> = wanted.iter().map(|(family, _)| *family).collect();
    let mut mocks: Vec<(ApiFamily, MockHandle)> = Vec::new();
    for (index, (family, addr)) in wanted.into_iter().enumerate() {
        let mut faults = Vec::new();
        for text in &args.faults.fault {
            match scenario::parse_fault(text, family) {
                Ok(rule) => faults.push(rule),
                // A fault that fits another family served here (`drop: done` is OpenAI's) is
                // skipped for this one; one that fits none is an error.
                Err(error) if fits_another(text, family, &families) => {
                    eprintln!(
                        "note: `{text}` does not apply to the {family} mock ({}); not applied there",
                        error.message
                    );
                }
                Err(error) => return Ok(invalid(&error)),
            }
        }
        let keys =
            args.keys.map_or_else(Vec::new, |n| (0..n).map(|i| format!("sk-chaos-{family}-{i}")).collect());
        let handle = MockBuilder::new(family)
            .keys(keys.clone())
            .models(if args.model.is_empty() { default_models(family) } else { args.model.clone() })
            .latency(latency_of(args))
            .limits(RateLimits::per_minute(args.rpm, args.tpm))
            .overload(args.overloaded.map_or(0.0, |p| p.0))
            .faults(faults)
            .seed(args.faults.seed.wrapping_add(index as u64))
            .connection_limits(args.connections.limits())
            .serve_sharded(addr, args.threads.count())
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let accepts = match keys.as_slice() {
            [] => "any non-empty key".to_owned(),
            [only] => format!("key {only}"),
            [first, .., last] => format!("keys {first} … {last}"),
        };
        println!(
            "{family} mock listening on http://{} (accepts {accepts}; counts at {COUNTS_PATH})",
            handle.addr
        );
        mocks.push((family, handle));
    }
    let _ = std::io::stdout().flush();
    interrupted().await;
    for (family, handle) in mocks {
        println!("{family} mock at {} received: {}", handle.addr, handle.counters().to_json());
        println!("{family} mock at {} {}", handle.addr, super::connections_line(handle.connection_counts()));
        handle.shutdown().await;
    }
    Ok(Exit::Pass)
}
