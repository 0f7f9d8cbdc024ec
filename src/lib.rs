//! `chaos`: a chaos-testing harness for LLM gateways and clients.
//!
//! The top floor of a workspace whose crates are the floors below it (`crates/`); each is
//! re-exported here under its module's name. `ARCHITECTURE.md` draws the floors and the imports
//! that must never run up them (the crates' dependencies, and `tests/layers.rs` inside them):
//! - [`cli`], [`exit`], [`commands`] — arguments, exit codes, one function per subcommand;
//!   [`run`] is the entry point.
//! - [`scenario`] — YAML → checked [`scenario::Plan`], errors at `file:line:column`;
//!   [`speed`] — `--speed F`, the time scale a plan can be played at;
//!   [`units`] — human units (`250ms`, `20/s`, `99.9%`, `0.15/M`).
//! - [`mock`] — built-in provider mocks (OpenAI, Anthropic); [`wire`] — provider wire formats
//!   they share with the faults.
//! - [`fault`] — faults as pure decisions (one file each) and chains of them.
//! - [`proxy`] — the interposer that applies them between a target and an upstream.
//! - [`ratelimit`] — provider-style token buckets (mocks and the `rate_limit` fault).
//! - [`load`] — arrivals, the pacer, request mixes, the client (SDK-like retries, fallbacks), all
//!   on a thread of its own.
//! - [`target`] — `url` and `command` targets: filling templates, the process group.
//! - [`metrics`] — records and the run clock; [`analysis`] — figures per phase and SLO burn;
//!   [`assert`](mod@assert) — expectations and the verdict; [`settle`] — a run settled into its
//!   results, verdict included; [`merge`] — several runs' results merged (`chaos merge`).
//! - [`results`] — the results contract: every type `results.json` holds, its schema version,
//!   its JSON Schema and the test that keeps a released version frozen; [`report`] — renders
//!   results, and only results: the table, `junit.xml`, `summary.md` and `report.html`.
//! - [`runner`] — starts everything, walks the phases, writes the results; [`monitor`] — the
//!   run watched live once a second: progress, halt conditions; [`ops`] — live Prometheus
//!   metrics and the control API (live faults, skip, stop, a toxiproxy-compatible subset).
//! - [`net`] — the shared HTTP serve loop (on one task, or sharded over a current-thread
//!   runtime per CPU for the standalone servers), body helpers; [`loopback`] — the loopback
//!   rule every address is checked by.
//! - [`bench`] — `chaos bench` and `run --calibrate`: the harness's own noise floor.
//! - [`suite`] — `chaos scorecard`: the standard suite generated, run and graded ([`scorecard`]).
#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod monitor;
pub mod ops;
pub mod runner;
pub mod suite;
#[cfg(test)]
mod test_support;

// Every floor below, under its own name, so `chaos::scenario::Plan` and `crate::fault::Chain`
// read the same from here, the tests and the benches.
pub use chaos_core::{located, loopback, metrics, ratelimit, results, speed, units, wire};
pub use chaos_fault as fault;
pub use chaos_measure::{analysis, assert};
pub use chaos_report::{merge, report, scorecard, settle};
pub use chaos_runtime::{load, mock, net, proxy, target};
pub use chaos_scenario as scenario;

pub use cli::{Cli, Command};
pub use commands::exit_for;
pub use exit::Exit;

/// Runs one command and returns how to exit. Errors the user can act on (an invalid scenario)
/// are printed and turned into their exit code; only harness failures are `Err`.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match &cli.command {
        Command::Validate { file, allow_remote, speed, shard } => {
            Ok(commands::validate(file, *allow_remote, *speed, *shard))
        }
        Command::Run {
            file,
            reports,
            allow_remote,
            upstream_ca,
            speed,
            dry_run,
            replay,
            calibrate,
            ops,
            listen,
            no_preflight,
            shard,
            split,
            connections,
        } => {
            let how = commands::RunHow {
                speed: speed.factor,
                speed_real_target: speed.real_target,
                dry_run: *dry_run,
                replay: replay.clone(),
                calibrate: calibrate.as_ref().map(|file| match file {
                    Some(file) => commands::Calibrate::Read(file.clone()),
                    None => commands::Calibrate::Measure,
                }),
                ops: ops.options(),
                listen: listen.clone(),
                preflight: !no_preflight,
                upstream_ca: upstream_ca.clone(),
                shard: *shard,
                role: match split.role(*shard) {
                    Ok(role) => role,
                    Err(refusal) => {
                        eprintln!("error: {refusal}");
                        return Ok(Exit::InvalidScenario);
                    }
                },
                connections: connections.limits(),
                keep_serving: split.keep_serving,
            };
            commands::run(file, reports, *allow_remote, how).await
        }
        Command::Check { file, allow_remote, listen } => commands::check(file, *allow_remote, listen).await,
        Command::Report { results, out } => commands::report(results, out.as_deref()),
        Command::Merge { results, out, replicas } => commands::merge(results, out.as_deref(), *replicas),
        Command::Bench { quick, out } => commands::bench(*quick, out.as_deref()).await,
        Command::Schema { of } => commands::schema(*of),
        Command::Scorecard { action: Some(cli::ScorecardAction::Compare(args)), .. } => {
            commands::compare(args)
        }
        Command::Scorecard { action: None, target, suite: _, quick, out, fail_below, speed } => {
            let how = commands::ScorecardHow {
                target: target.clone().unwrap_or_default(),
                quick: *quick,
                out: out.clone(),
                fail_below: fail_below.clone(),
                speed: *speed,
            };
            commands::scorecard(how).await
        }
        Command::Mock(args) => commands::mock(args).await,
        Command::Proxy(args) => commands::proxy(args).await,
    }
}
