//! The preflight as a run (and `chaos check`) uses it: for a `url` or `command` target, before
//! the clock starts, probes go through the target ([`crate::target::preflight`]); what they
//! found is said in a few lines, kept in the results, and when a probe went around the
//! interposers the run stops with [`PreflightFailed`] (exit 3), nothing measured.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::{
    load::ClientConfig,
    metrics::Outcome,
    results,
    scenario::{plan::Target, Plan},
    target::preflight::{self, Preflight},
};

/// Probes sent through the target did not all reach an interposer: the target goes around
/// them, or is not up. The run is invalid before it starts.
#[derive(Debug)]
pub struct PreflightFailed(pub String);

impl std::fmt::Display for PreflightFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PreflightFailed {}

/// Runs the preflight for a gateway target (none for the built-in client, which sends to the
/// interposers itself): what it found, or [`PreflightFailed`] saying what to fix.
pub async fn check(
    plan: &Plan,
    listeners: &[TcpListener],
    addrs: &[SocketAddr],
    client: &ClientConfig,
) -> anyhow::Result<Option<results::Preflight>> {
    if matches!(plan.target, Target::Builtin(_)) {
        return Ok(None);
    }
    let found = preflight::run(plan, listeners, client).await?;
    if !found.passed() {
        return Err(PreflightFailed(failure(plan, &found, addrs, client)).into());
    }
    Ok(Some(summary(plan, &found)))
}

/// The preflight alone (`chaos check`): binds the interposers' addresses, readies the target
/// (starting a `command` target in a folder of its own, stopped afterwards) and probes it.
/// `None` for the built-in client.
pub async fn preflight_only(plan: &Plan, announce: bool) -> anyhow::Result<Option<results::Preflight>> {
    if matches!(plan.target, Target::Builtin(_)) {
        return Ok(None);
    }
    let listeners = super::listen::bind_interposers(plan).await?;
    let addrs = listeners.iter().map(TcpListener::local_addr).collect::<Result<Vec<_>, _>>()?;
    let filled = plan.with_upstreams_filled(&addrs);
    let plan = filled.as_ref().unwrap_or(plan);
    if announce {
        super::gateway_lines(&plan.upstreams, &addrs).iter().for_each(|line| println!("{line}"));
    }
    let folder = tempfile::tempdir()?;
    let target = crate::target::start(plan, &addrs, folder.path()).await?;
    let checked = check(plan, &listeners, &addrs, &target.client).await;
    if let Some(process) = target.process {
        process.stop(crate::target::process::STOP_GRACE).await;
    }
    checked
}

/// What the preflight found, for the results and a line on the console.
fn summary(plan: &Plan, found: &Preflight) -> results::Preflight {
    results::Preflight {
        probes: found.probes.len() as u64,
        reached: found.reached() as u64,
        reached_upstreams: found
            .reached_upstreams()
            .into_iter()
            .map(|i| plan.upstreams[i].name.clone())
            .collect(),
        ids_forwarded: !found.ids_dropped(),
        took_s: found.took.as_secs_f64(),
    }
}

/// The line a run prints once the preflight passed.
pub fn passed_line(preflight: &results::Preflight) -> String {
    format!("preflight: {}", preflight.describe())
}

/// Why the preflight failed and what to fix, in a few lines.
fn failure(plan: &Plan, found: &Preflight, addrs: &[SocketAddr], client: &ClientConfig) -> String {
    let answers: Vec<String> = found.probes.iter().map(|probe| answer(probe.outcome)).collect();
    let target = client.routes.first().map_or_else(String::new, |route| route.base.to_string());
    let missed: Vec<_> = found.probes.iter().filter(|probe| probe.reached.is_empty()).collect();
    let all = |pick: fn(Outcome) -> bool| missed.iter().all(|probe| pick(probe.outcome));
    let (why, goes_around) = if all(|o| matches!(o, Outcome::ConnectionError | Outcome::Timeout)) {
        (format!("the target at {target} did not answer them: is it running, at that address"), false)
    } else if all(|o| matches!(o, Outcome::HttpError(401 | 403))) {
        (
            "the target refused the key the load presents (`api_key_env`, `keys_env` or `keys_file` names it)"
                .to_owned(),
            false,
        )
    } else if all(|o| matches!(o, Outcome::HttpError(404 | 405 | 400 | 422))) {
        (
            "the target did not take the request: its path, model or shape (`headers:`, `body:`, `aliases`)"
                .to_owned(),
            false,
        )
    } else {
        (
            "the target goes around the interposers (a base URL pointing straight at a provider, or a mock \
             of its own), so no fault would touch it"
                .to_owned(),
            true,
        )
    };
    let mut models: Vec<&str> = missed.iter().map(|probe| probe.model.as_str()).collect();
    models.dedup();
    let mut lines = vec![format!(
        "preflight failed: {} of {} probe requests sent through the target reached an interposer (the target \
         answered {}); {why}.",
        found.reached(),
        found.probes.len(),
        answers.join(", ")
    )];
    if goes_around {
        let primary = plan.primary_upstream();
        lines.push(format!(
            "They were expected at upstream `{}`, the primary. Point the gateway's base URL for model {} at its \
             interposer:",
            plan.upstreams[primary].name,
            models.iter().map(|model| format!("`{model}`")).collect::<Vec<_>>().join(", ")
        ));
        let expected = std::slice::from_ref(&plan.upstreams[primary]);
        let pasted = super::gateway_lines(expected, &addrs[primary..=primary]);
        lines.extend(pasted.iter().map(|line| format!("  {line}")));
        lines.push(
            "Fix an address with `listen:` (or --listen NAME=ADDR), then `chaos check` the scenario.".into(),
        );
    }
    lines.push("Nothing was run.".to_owned());
    lines.join("\n")
}

/// How the target answered a probe, in a word or two.
fn answer(outcome: Outcome) -> String {
    match outcome {
        Outcome::Ok => "200".to_owned(),
        Outcome::HttpError(status) => status.to_string(),
        Outcome::Timeout => "no answer in time".to_owned(),
        Outcome::ConnectionError => "a connection error".to_owned(),
        Outcome::StreamCut => "a cut stream".to_owned(),
        Outcome::Unfinished => "nothing".to_owned(),
    }
}
