//! The runner: starts the mocks and interposers, gives each interposer its fault timeline
//! (it switches chains at the exact phase boundaries by the run clock), drives the load, walks
//! the phases, then drains, analyses and writes the results.
//!
//! One shutdown path: when `shutdown` resolves (Ctrl-C), load stops, faults are removed,
//! in-flight requests get a short drain, and results for what happened so far are written.
//! An interrupt during the drain shortens it the same way. With `abort_on_fail`, an expectation
//! on a phase that failed for good (`assert::early`) stops the run the same way, and the
//! results say which one did.
//!
//! A gateway target is probed before the clock starts ([`preflight`]): a run whose target goes
//! around the interposers stops there, invalid, with nothing measured.
//!
//! [`execute`] is five stages, each in its own file, each handing a small struct to the next:
//! [`prepare`] (folder, journal, mocks, listeners) → [`start`] (target, clock, interposers,
//! load) → [`play`] (the phases) → [`drain`] (faults off, load drained, everything shut down)
//! → [`finish`] (analysis, expectations, `results.json`).

mod drain;
mod finish;
mod listen;
mod play;
mod preflight;
mod prepare;
pub mod split;
mod start;
mod upstreams;

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

pub use listen::{gateway_lines, ListenError};
pub use preflight::{passed_line, preflight_only, PreflightFailed};
pub use upstreams::UpstreamKeyError;

use crate::{
    metrics::{journal::RunLine, replay::Replay},
    monitor::progress::Progress,
    ops::OpsOptions,
    results::Results,
    scenario::Plan,
};

/// The longest drain after an interrupt, whatever the scenario's `drain` says.
const INTERRUPT_DRAIN: Duration = Duration::from_secs(5);

/// Where and how a run writes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folder under which each run gets `<scenario>-<timestamp>/`.
    pub reports_root: PathBuf,
    /// The command line that started the run (program first), recorded with secrets redacted.
    pub command_line: Vec<String>,
    /// Run the whole plan with no fault firing (`--dry-run`).
    pub dry_run: bool,
    /// How progress is shown while the run goes on.
    pub progress: Progress,
    /// Fault decisions of an earlier run to impose (`--replay`), read by [`Replay::read`]
    /// against [`journal_header`].
    pub replay: Option<Arc<Replay>>,
    /// Live metrics and the control API, when asked for.
    pub ops: OpsOptions,
    /// Whom the interposers trust when a `url` upstream is `https://` (`--upstream-ca`).
    pub upstream_tls: crate::proxy::tls::UpstreamTls,
    /// The harness's noise floor, measured or read before the run (`--calibrate`).
    pub calibration: Option<crate::results::NoiseFloor>,
    /// Print each interposer's URL, and the lines to paste into a gateway, once they are bound.
    pub announce_interposers: bool,
    /// Probe a gateway target before the clock starts ([`preflight`]).
    pub preflight: bool,
    /// The header and idle timeouts and the cap on connections of the run's interposers and
    /// mocks (`--header-timeout`, `--idle-timeout`, `--max-connections`).
    pub connections: crate::net::ConnectionLimits,
    /// Which part of a split run this process plays ([`split`]); all of it by default.
    pub role: split::Role,
}

impl RunOptions {
    /// Runs writing under `reports_root`, started by this process's command line, faults on,
    /// progress not shown.
    pub fn new(reports_root: PathBuf) -> Self {
        RunOptions {
            reports_root,
            command_line: std::env::args().collect(),
            dry_run: false,
            progress: Progress::Off,
            replay: None,
            ops: OpsOptions::default(),
            upstream_tls: Default::default(),
            calibration: None,
            announce_interposers: false,
            preflight: true,
            connections: Default::default(),
            role: split::Role::Whole,
        }
    }
}

/// The first line of a run's journal: the scenario it ran, which a replay must match.
pub fn journal_header(plan: &Plan) -> RunLine {
    RunLine {
        kind: "run".to_owned(),
        scenario: plan.name.clone(),
        seed: plan.seed,
        upstreams: plan.upstreams.iter().map(|u| u.name.clone()).collect(),
        zones: plan.upstreams.iter().map(|u| u.zone.clone()).collect(),
        phases: plan.phases.iter().map(|p| p.name.clone()).collect(),
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// A finished run: its results and the folder they were written to.
#[derive(Debug)]
pub struct RunReport {
    pub results: Results,
    pub folder: PathBuf,
}

/// A run interrupted before its first phase began: nothing was sent, so there are no results
/// to write (the caller exits as interrupted, not as a harness failure).
#[derive(Debug)]
pub struct NothingRun(pub &'static str);

impl std::fmt::Display for NothingRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted while {}; nothing was run", self.0)
    }
}

impl std::error::Error for NothingRun {}

/// Runs a plan end to end and writes its results: the five stages, in order.
pub async fn execute(
    plan: &Plan,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunReport> {
    let mut shutdown = std::pin::pin!(shutdown);
    let prepared = prepare::prepare(plan, options).await?;
    // A request naming an upstream (`{{upstreams.NAME.url}}`) learns where it listens now.
    let filled = plan.with_upstreams_filled(&prepared.addrs);
    let plan = filled.as_ref().unwrap_or(plan);
    let mut started = start::start(plan, options, prepared, shutdown.as_mut()).await?;
    let stopped = play::play(&mut started, options, shutdown.as_mut()).await;
    let drained = drain::drain(started, stopped, options, shutdown.as_mut()).await?;
    finish::finish(drained, options).await
}
