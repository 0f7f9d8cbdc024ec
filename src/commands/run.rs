//! `chaos validate` and `chaos run`.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{interrupted, invalid};
use crate::{
    assert::Verdict, bench, cli::SpeedArg, metrics::replay::Replay, monitor::progress::Progress, report,
    runner, scenario, scenario::shard::Shard, speed::Speed, Exit,
};

/// Checks a scenario and prints a one-line summary of it played at `speed`.
pub fn validate(file: &Path, allow_remote: bool, speed: SpeedArg, shard: Shard) -> Exit {
    let loaded = scenario::load_allowing_remote(file, allow_remote);
    if let Some(refusal) = loaded.as_ref().ok().and_then(|plan| speed_refusal(plan, speed)) {
        eprintln!("error: {refusal}");
        return Exit::InvalidScenario;
    }
    match loaded.map(|plan| plan.at_speed(speed.factor)) {
        Ok(plan) => {
            let plan = match plan.sharded(shard) {
                Ok(plan) => plan,
                Err(refusal) => {
                    eprintln!("error: --shard {shard}: {refusal}");
                    return Exit::InvalidScenario;
                }
            };
            super::secrets::warn_of_literal_secrets(&plan);
            println!("ok: {}", plan.summary());
            Exit::Pass
        }
        Err(error) => invalid(&error),
    }
}

/// How `chaos run` runs a scenario, beyond which one and where its results go.
#[derive(Debug, Clone)]
pub struct RunHow {
    /// Its timeline compressed this many times (`--speed`).
    pub speed: Speed,
    /// A `url` or `command` target may be played at a speed (`--speed-real-target`).
    pub speed_real_target: bool,
    /// No fault fires (`--dry-run`).
    pub dry_run: bool,
    /// A journal whose fault decisions to impose (`--replay`).
    pub replay: Option<PathBuf>,
    /// Record the harness's noise floor (`--calibrate`).
    pub calibrate: Option<Calibrate>,
    /// Live metrics and the control API.
    pub ops: crate::ops::OpsOptions,
    /// `NAME=ADDR` pairs: where upstream NAME's interposer listens, over the scenario (`--listen`).
    pub listen: Vec<String>,
    /// Probe a gateway target before the clock starts (not `--no-preflight`).
    pub preflight: bool,
    /// CA certificates (PEM) trusted for `https://` `url` upstreams, beyond the Mozilla roots
    /// (`--upstream-ca`).
    pub upstream_ca: Option<PathBuf>,
    /// The part of the load to play (`--shard K/N`).
    pub shard: Shard,
    /// The part of a split run to play (`--role`).
    pub role: runner::split::Role,
    /// Serve the results once written, until stopped (`--keep-serving`, the upstreams role).
    pub keep_serving: bool,
    /// The header and idle timeouts and the cap on connections of the run's interposers and
    /// mocks (`--header-timeout`, `--idle-timeout`, `--max-connections`).
    pub connections: crate::net::ConnectionLimits,
}

/// Where a run's noise floor comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibrate {
    /// Measured now, before the run (`--calibrate`).
    Measure,
    /// Read from a `chaos bench` file (`--calibrate=FILE`).
    Read(PathBuf),
}

/// Runs a scenario as `how` says, prints the verdict table and returns the verdict's exit code.
/// A scenario, a journal or an address that cannot be used is the user's to fix: exit 2,
/// nothing started.
pub async fn run(file: &Path, reports: &Path, allow_remote: bool, how: RunHow) -> anyhow::Result<Exit> {
    let loaded = scenario::load_allowing_remote(file, allow_remote);
    let speed = SpeedArg { factor: how.speed, real_target: how.speed_real_target };
    if let Some(refusal) = loaded.as_ref().ok().and_then(|plan| speed_refusal(plan, speed)) {
        eprintln!("error: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    let now = time::OffsetDateTime::now_utc();
    let plan = match loaded.map(|plan| plan.at_speed(how.speed).anchored(now)) {
        Ok(plan) => plan,
        Err(error) => return Ok(invalid(&error)),
    };
    let mut plan = match plan.sharded(how.shard) {
        Ok(plan) => plan,
        Err(refusal) => {
            eprintln!("error: --shard {}: {refusal}", how.shard);
            return Ok(Exit::InvalidScenario);
        }
    };
    super::secrets::warn_of_literal_secrets(&plan);
    let remote = plan.allow_remote; // `--allow-remote`, or the target's `allow_remote: true`
    if let Err(refusal) = super::listen::apply(&mut plan, &how.listen, remote) {
        eprintln!("error: --listen: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    if let Some(refusal) = split_refusal(&plan, &how) {
        eprintln!("error: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    if let runner::split::Role::Load { coordinator } = &how.role {
        return super::split::load_shard(&plan, coordinator, how.ops.control_token.clone()).await;
    }
    // A relative folder names one under where `chaos` was started, whatever folder a `command`
    // target later runs in.
    let reports = std::path::absolute(reports).unwrap_or_else(|_| reports.to_owned());
    let upstream_tls = match crate::proxy::tls::UpstreamTls::trusting(how.upstream_ca.as_deref()) {
        Ok(tls) => tls,
        Err(error) => {
            eprintln!("error: --upstream-ca {error}");
            return Ok(Exit::InvalidScenario);
        }
    };
    if let Some(refusal) = how.ops.refusal() {
        eprintln!("error: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    let replay = match how.replay.as_deref().map(|path| Replay::read(path, &runner::journal_header(&plan))) {
        Some(Err(error)) => {
            eprintln!("error: {error}");
            return Ok(Exit::InvalidScenario);
        }
        Some(Ok(replay)) => Some(Arc::new(replay)),
        None => None,
    };
    let calibration = match &how.calibrate {
        None => None,
        Some(Calibrate::Read(path)) => match bench::floor::read(path) {
            Ok(floor) => Some(floor),
            Err(error) => {
                eprintln!("error: --calibrate: {error:#}");
                return Ok(Exit::InvalidScenario);
            }
        },
        Some(Calibrate::Measure) => {
            println!("calibrating: measuring the harness's own noise floor on this machine (about 15 s) ...");
            let _ = std::io::stdout().flush();
            tokio::select! {
                floor = bench::floor::measure() => Some(floor?),
                () = interrupted() => {
                    eprintln!("interrupted while calibrating; nothing was run");
                    return Ok(Exit::Interrupted);
                }
            }
        }
    };
    if let Some(floor) = &calibration {
        println!("noise floor: {}", floor.describe());
    }
    // Listening for Ctrl-C from before the run says it is waiting for anything.
    let shutdown = interrupted();
    let dry_run = how.dry_run;
    let rehearsal = if dry_run { " (dry run: no fault fires)" } else { "" };
    println!("running {}{rehearsal}", plan.summary());
    if let Some(at) = plan.starts_at {
        let wait = (at - now).whole_seconds();
        println!("waiting for the first phase's `at`: {at} (in {wait}s); everything else is up");
    }
    let _ = std::io::stdout().flush();
    let keep_serving = how.keep_serving.then(|| (how.ops.control, how.ops.control_token.clone()));
    let options = runner::RunOptions {
        dry_run,
        progress: Progress::for_stderr(),
        replay,
        calibration,
        ops: how.ops,
        upstream_tls,
        announce_interposers: !matches!(plan.target, scenario::plan::Target::Builtin(_)),
        preflight: how.preflight,
        connections: how.connections,
        role: how.role.clone(),
        ..runner::RunOptions::new(reports)
    };
    let report = match runner::execute(&plan, &options, shutdown).await {
        Ok(report) => report,
        Err(error) if error.is::<runner::NothingRun>() => {
            eprintln!("{error}");
            return Ok(Exit::Interrupted);
        }
        Err(error) => return super::user_exit(&error).ok_or(error),
    };
    print!("{}", report::render_table(&report.results));
    for note in report::cells::stop_notes(&report.results) {
        println!("{note}");
    }
    println!("results: {}", report.folder.join("results.json").display());
    println!("report:  {}", report.folder.join("report.html").display());
    let _ = std::io::stdout().flush();
    if let Some((Some(addr), token)) = keep_serving {
        super::serve_results::serve_results(addr, report.folder.clone(), token, interrupted()).await?;
    }
    Ok(exit_for(report.results.verdict))
}

/// Why `plan` cannot be played in the split run's role `how` asks for: what a split run does
/// not do yet is refused rather than dropped.
fn split_refusal(plan: &scenario::Plan, how: &RunHow) -> Option<String> {
    use runner::split::Role;
    if how.role == Role::Whole {
        return how.keep_serving.then(|| "--keep-serving belongs to --role upstreams".to_owned());
    }
    let not_yet = |what: &str| Some(format!("a split run does not support {what} yet"));
    if matches!(plan.target, scenario::plan::Target::Command(_)) {
        return not_yet("a `command` target (give the gateway's `url`)");
    }
    if plan.phases.iter().any(|phase| phase.at.is_some()) {
        return not_yet("phases at wall-clock times (`at:`): the shards start the run together");
    }
    if plan.max_spend.is_some() || !plan.halts.is_empty() || plan.abort_on_fail {
        return not_yet(
            "`max_spend`, `halt` or `abort_on_fail`: its requests reach the upstreams role at the end",
        );
    }
    match &how.role {
        Role::Upstreams { .. } if how.ops.control.is_none() => {
            Some("--role upstreams needs --control ADDR: its load shards check in there".to_owned())
        }
        Role::Load { .. } if how.keep_serving => Some("--keep-serving is the upstreams role's".to_owned()),
        _ => None,
    }
}

/// Why `plan` is not played at `speed`: stretched past the longest a plan may last, or a
/// gateway on its own clock (unless the user said so).
fn speed_refusal(plan: &scenario::Plan, speed: SpeedArg) -> Option<String> {
    plan.stretch_refusal(speed.factor)
        .or_else(|| (!speed.real_target).then(|| plan.real_target_speed_refusal(speed.factor)).flatten())
}

/// The exit code for a verdict.
pub fn exit_for(verdict: Verdict) -> Exit {
    match verdict {
        Verdict::Pass => Exit::Pass,
        Verdict::Fail => Exit::Failed,
        Verdict::Inconclusive | Verdict::Invalid => Exit::InvalidRun,
        Verdict::Interrupted => Exit::Interrupted,
        Verdict::Halted => Exit::Halted,
    }
}
