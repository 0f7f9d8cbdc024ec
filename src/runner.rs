//! The runner: starts the mocks and interposers, gives each interposer its fault timeline
//! (it switches chains at the exact phase boundaries by the run clock), drives the load, walks
//! the phases, then drains, analyses and writes the results.
//!
//! One shutdown path: when `shutdown` resolves (Ctrl-C), load stops, faults are removed,
//! in-flight requests get a short drain, and results for what happened so far are written.
//! An interrupt during the drain shortens it the same way. With `abort_on_fail`, an expectation
//! on a phase that failed for good (`assert::early`) stops the run the same way, and the
//! results say which one did.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    analysis, assert,
    fault::Chain,
    load::{self, LoadClient, Schedule, Sender},
    metrics::{
        journal::{Journal, RunLine, QUEUE},
        replay::Replay,
        Recorder, RunClock,
    },
    mock::{MockBuilder, MockHandle},
    monitor::{self, progress::Progress, Halt},
    ops::{control::ControlEvent, live_faults::LiveFaults, state::RunState, OpsListeners, OpsOptions},
    proxy::{self, InterposerConfig, InterposerHandle, TimedChain, Timeline},
    report::{run_folder, Environment, Results, RunMeta, UpstreamCounts},
    scenario::{
        plan::{Arrivals, Upstream},
        Plan,
    },
    target,
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
    /// The harness's noise floor, measured or read before the run (`--calibrate`).
    pub calibration: Option<crate::bench::NoiseFloor>,
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
            calibration: None,
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

/// Runs a plan end to end and writes its results.
pub async fn execute(
    plan: &Plan,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunReport> {
    let started = time::OffsetDateTime::now_utc();
    let wall = std::time::Instant::now();
    let recorder = Recorder::folding(plan.phase_ends());
    let stamp = crate::report::folder_stamp(started)?;
    let folder = run_folder(&options.reports_root, &plan.name, &stamp);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let ops = OpsListeners::bind(&options.ops).await?;

    let (journal, journal_writer) =
        Journal::start(&folder.join("journal.ndjson"), &journal_header(plan), QUEUE)
            .with_context(|| format!("starting the journal in {}", folder.display()))?;
    recorder.journal_into(journal);

    let mut mocks: Vec<MockHandle> = Vec::with_capacity(plan.upstreams.len());
    let mut listeners = Vec::with_capacity(plan.upstreams.len());
    for (index, upstream) in plan.upstreams.iter().enumerate() {
        mocks.push(start_mock(plan, index, upstream).await.context("starting a mock provider")?);
        listeners.push(TcpListener::bind("127.0.0.1:0").await.context("binding an interposer")?);
    }
    let addrs = listeners.iter().map(TcpListener::local_addr).collect::<Result<Vec<_>, _>>()?;
    // A command target starts (and becomes healthy) before the clock does: its start-up is not
    // part of the timeline. Connections it makes meanwhile wait in the interposers' backlogs.
    let mut shutdown = std::pin::pin!(shutdown);
    let target = tokio::select! {
        target = target::start(plan, &addrs, &folder) => target.context("starting the target")?,
        () = &mut shutdown => return Err(NothingRun("the target was starting").into()),
    };
    // A first phase with a wall-clock `at` waits for it, everything else up and ready.
    if let Some(wait) =
        plan.starts_at.and_then(|at| std::time::Duration::try_from(at - time::OffsetDateTime::now_utc()).ok())
    {
        tracing::info!(?wait, "waiting for the first phase's `at`");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => {
                if let Some(process) = target.process {
                    process.stop(target::process::STOP_GRACE).await;
                }
                return Err(NothingRun("waiting for the first phase's `at`").into());
            }
        }
    }
    // Everything is up: from here on, time belongs to the scenario.
    let phases_started_at = time::OffsetDateTime::now_utc();
    let clock = RunClock::start_now();
    let mut interposers: Vec<InterposerHandle> = Vec::with_capacity(plan.upstreams.len());
    for (index, (upstream, (mock, listener))) in
        plan.upstreams.iter().zip(mocks.iter().zip(listeners)).enumerate()
    {
        let config = InterposerConfig {
            upstream_index: index,
            upstream_uri: format!("http://{}", mock.addr).parse()?,
            family: upstream.family,
            keys: upstream.keys.clone(),
            clock,
            recorder: recorder.clone(),
            replay: options.replay.clone(),
            tls: Default::default(),
        };
        let interposer = proxy::spawn(listener, config)?;
        if !options.dry_run {
            interposer.set_timeline(timeline(plan, index));
        }
        interposers.push(interposer);
    }

    let state = RunState::new(plan.clone(), clock, recorder.clone(), options.dry_run);
    let layers = plan.upstreams.iter().zip(&interposers);
    let live = Arc::new(LiveFaults::new(
        layers
            .map(|(upstream, interposer)| (upstream.name.clone(), upstream.family, interposer.live_layer()))
            .collect(),
        plan.seed,
        options.dry_run,
    ));
    let mut ops = ops.start(&state, &live, interposers.iter().map(|i| i.addr).collect())?;
    let sender = Sender::new(LoadClient::new(target.client, clock)?, plan.load.mix.clone(), plan.seed);
    let (stop_load, load_stopped) = watch::channel(false);
    let load = match &plan.load.arrivals {
        Arrivals::Open { process, segments, bursts } => {
            let schedule = Schedule::new(*process, segments.clone(), bursts, plan.seed);
            load::start(
                schedule,
                plan.duration(),
                sender,
                plan.load.limits,
                clock,
                recorder.clone(),
                load_stopped,
            )
            .context("starting the load generator")?
        }
        Arrivals::Closed { users, think } => {
            load::start_closed(*users, *think, plan.duration(), sender, clock, recorder.clone(), load_stopped)
                .context("starting the load generator")?
        }
    };

    let mut interrupted = false;
    let mut aborted_by = None;
    let mut failure = early_failure(state.plan(), &recorder, clock);
    let mut halted_by = None;
    let mut watching = std::pin::pin!(monitor::watch(&state, options.progress));
    let mut index = 0;
    loop {
        let running = state.plan();
        let Some(phase) = running.phases.get(index) else { break };
        tracing::info!(phase = %phase.name, "phase started");
        // A zone lost with `refuse` is switched by this loop, so it starts a little after the
        // boundary (the chains switch exactly, by the clock).
        for (interposer, dark) in interposers.iter().zip(&phase.dark) {
            interposer.set_refusing(*dark && !options.dry_run);
        }
        tokio::select! {
            () = tokio::time::sleep_until(clock.at(phase.end())) => index += 1,
            () = &mut shutdown => {
                interrupted = true;
                break;
            }
            failed = &mut failure => {
                tracing::warn!(expectation = %failed.expectation.text, "failed: stopping the run (abort_on_fail)");
                aborted_by = Some(failed.expectation.text);
                break;
            }
            halt = &mut watching => {
                tracing::warn!(condition = %halt.condition, "halt condition held: removing every fault");
                halted_by = Some(halt);
                break;
            }
            Some(event) = ops.events.recv() => match event {
                ControlEvent::SkipPhase => {
                    let Some(skipped) = running.skipped_at(clock.elapsed()) else { continue };
                    tracing::warn!(phase = %phase.name, "phase skipped (control API)");
                    skip_to(&skipped, &interposers, options.dry_run);
                    recorder.reschedule(skipped.phase_ends());
                    state.set_plan(skipped);
                    failure = early_failure(state.plan(), &recorder, clock);
                    index += 1;
                }
                ControlEvent::Stop { by } => {
                    tracing::warn!(%by, "emergency stop: removing every fault");
                    let halt = Halt::stop(by, clock.elapsed(), phase.name.clone());
                    let mut progress = options.progress;
                    progress.halted(&halt);
                    halted_by = Some(halt);
                    break;
                }
            },
        }
    }
    let as_run = state.plan();
    let plan = &*as_run;
    let stopped_early = interrupted || aborted_by.is_some() || halted_by.is_some();
    // Faults go first, before anything else waits: none fires after a stop.
    if stopped_early {
        remove_faults(plan, &interposers, &live, clock);
        if halted_by.is_some() {
            state.set_halted();
        }
    }
    options.progress.finish();
    let _ = stop_load.send(true);
    // An interrupt during the drain shortens it (once interrupted, the shutdown future is spent).
    let drain_interrupt = async {
        if interrupted {
            std::future::pending::<()>().await;
        }
        (&mut shutdown).await;
        remove_faults(plan, &interposers, &live, clock);
    };
    let bound = if stopped_early { plan.load.drain.min(INTERRUPT_DRAIN) } else { plan.load.drain };
    let (generator, interrupted_in_drain) = load.drain(bound, INTERRUPT_DRAIN, drain_interrupt).await?;
    interrupted |= interrupted_in_drain;
    if let Some(process) = target.process {
        let stopped = process.stop(target::process::STOP_GRACE).await;
        tracing::info!(?stopped, "target stopped");
    }
    ops.shutdown().await;
    for interposer in interposers {
        interposer.shutdown().await;
    }
    // Every attempt is recorded once its interposer has shut down.
    recorder.close_journal();
    let journal = tokio::task::spawn_blocking(move || journal_writer.finish())
        .await
        .context("the journal writer")?
        .context("writing journal.ndjson")?;
    let mut counts = Vec::with_capacity(mocks.len());
    for (upstream, mock) in plan.upstreams.iter().zip(mocks) {
        counts.push(UpstreamCounts::new(upstream, mock.counters()));
        mock.shutdown().await;
    }

    let analysis = analysis::analyze(plan, &recorder.aggregate(plan.phase_ends()));
    let checks = assert::evaluate(&plan.expectations, &analysis);
    let run = RunMeta {
        started_at: started.format(&time::format_description::well_known::Rfc3339)?,
        elapsed_s: wall.elapsed().as_secs_f64(),
        interrupted,
        aborted_by,
        halted_by,
        dry_run: options.dry_run,
        phases_started_at: phases_started_at.format(&time::format_description::well_known::Rfc3339)?,
    };
    let generator = generator.report(plan.load.max_lag);
    let results = Results::new(plan, run, generator, analysis, checks, counts)
        .with_environment(Environment::capture(&options.command_line))
        .with_journal(Some(journal), options.replay.as_ref().map(|replay| replay.stats()))
        .with_calibration(options.calibration.clone());
    results.write(&folder)?;
    Ok(RunReport { results, folder })
}

async fn start_mock(plan: &Plan, index: usize, upstream: &Upstream) -> std::io::Result<MockHandle> {
    MockBuilder::new(upstream.family)
        .keys(upstream.keys.clone())
        .models(
            plan.load
                .mix
                .kinds()
                .iter()
                .map(|kind| kind.model.to_string())
                .collect::<indexmap::IndexSet<_>>()
                .into_iter()
                .collect(),
        )
        .latency(upstream.latency)
        .output(upstream.output)
        .limits(upstream.limits)
        .overload(upstream.overload)
        .seed(plan.seed.wrapping_add(index as u64))
        .spawn()
        .await
}

/// Clears every interposer's faults, live ones included, and brings dark ones back (emergency
/// stop); decided requests keep their decision.
fn remove_faults(plan: &Plan, interposers: &[InterposerHandle], live: &LiveFaults, clock: RunClock) {
    live.close("the run has stopped: every fault was removed");
    for interposer in interposers {
        interposer.set_chain(plan.phase_at(clock.elapsed()), Chain::empty());
        interposer.set_refusing(false);
    }
}

/// Gives every interposer the timeline of a plan whose phase in force was cut short.
fn skip_to(plan: &Plan, interposers: &[InterposerHandle], dry_run: bool) {
    if dry_run {
        return;
    }
    for (index, interposer) in interposers.iter().enumerate() {
        interposer.set_timeline(timeline(plan, index));
    }
}

/// The first expectation of `plan` that failed for good (with `abort_on_fail`); never, without.
fn early_failure(
    plan: Arc<Plan>,
    recorder: &Recorder,
    clock: RunClock,
) -> std::pin::Pin<Box<dyn Future<Output = assert::Check> + Send>> {
    let recorder = recorder.clone();
    Box::pin(async move {
        match plan.abort_on_fail {
            true => assert::early::first_failure(&plan, &recorder, clock).await,
            false => std::future::pending().await,
        }
    })
}

/// One upstream's chains for every phase, each with its own seed.
fn timeline(plan: &Plan, upstream: usize) -> Timeline {
    let entries = plan
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| TimedChain {
            phase: index,
            until: phase.end(),
            chain: Chain::new(phase.faults[upstream].clone(), chain_seed(plan.seed, index, upstream)),
        })
        .collect();
    Timeline::new(entries)
}

/// A distinct, reproducible seed for each phase and upstream.
fn chain_seed(seed: u64, phase: usize, upstream: usize) -> u64 {
    seed ^ ((phase as u64) << 32 | upstream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
