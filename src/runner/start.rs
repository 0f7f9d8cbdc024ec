//! Stage 2, start: the target comes up (a command target becomes healthy), a gateway target's
//! preflight probes reach the interposers ([`super::preflight`]), and a first phase's
//! wall-clock `at` is waited for; then the run clock starts, each interposer starts serving with
//! its fault timeline, the operations servers start and the load begins. Hands [`Started`] to
//! [`super::play`]; an interrupt before the clock starts ends the run with [`NothingRun`].

use std::{future::Future, pin::Pin, sync::Arc};

use anyhow::Context;
use tokio::sync::watch;

use crate::{
    fault::Chain,
    load::{self, LoadClient, LoadThreads, Schedule, Sender},
    metrics::{journal::JournalWriter, RunClock},
    mock::MockHandle,
    ops::{live_faults::LiveFaults, state::RunState, OpsServers},
    proxy::{self, InterposerConfig, InterposerHandle, TimedChain, Timeline},
    scenario::{plan::Arrivals, Plan},
    target::{self, process::TargetProcess},
};

use super::{
    prepare::{Bookkeeping, Prepared},
    split::Role,
    NothingRun, RunOptions,
};

/// A run whose phases have begun: everything serving, the load sending.
pub(super) struct Started {
    pub books: Bookkeeping,
    pub journal_writer: JournalWriter,
    /// One per mock upstream (`None` for a `url` upstream), in the scenario's order.
    pub mocks: Vec<Option<MockHandle>>,
    /// The target's process, for a command target.
    pub target: Option<TargetProcess>,
    pub clock: RunClock,
    /// When the first phase started, after the target was up and a first `at` was waited for.
    pub phases_started_at: time::OffsetDateTime,
    /// One per upstream, in the scenario's order.
    pub interposers: Vec<InterposerHandle>,
    pub state: Arc<RunState>,
    pub live: Arc<LiveFaults>,
    pub ops: OpsServers,
    pub load: LoadThreads,
    /// Sending `true` stops the load from starting requests.
    pub stop_load: watch::Sender<bool>,
}

/// Starts the target, waits for a first phase's `at`, then starts the clock, the interposers,
/// the operations servers and the load.
pub(super) async fn start<S: Future<Output = ()>>(
    plan: &Plan,
    options: &RunOptions,
    prepared: Prepared,
    mut shutdown: Pin<&mut S>,
) -> anyhow::Result<Started> {
    let Prepared { mut books, ops, journal_writer, mocks, upstream_keys, listeners, addrs } = prepared;
    // A command target starts (and becomes healthy) before the clock does: its start-up is not
    // part of the timeline. Connections it makes meanwhile wait in the interposers' backlogs.
    let target = tokio::select! {
        target = target::start(plan, &addrs, &books.folder) => target.context("starting the target")?,
        () = shutdown.as_mut() => return Err(NothingRun("the target was starting").into()),
    };
    // Probes through a gateway target must reach the interposers, or nothing is worth measuring.
    let preflight = async {
        // A split run's target is driven by its shards, from elsewhere.
        match options.preflight && options.role == Role::Whole {
            true => super::preflight::check(plan, &listeners, &addrs, &target.client).await,
            false => Ok(None),
        }
    };
    let checked = tokio::select! {
        checked = preflight => checked,
        () = shutdown.as_mut() => Err(NothingRun("the preflight was running").into()),
    };
    match checked {
        Ok(preflight) => {
            if let (Some(found), true) = (&preflight, options.announce_interposers) {
                println!("{}", super::preflight::passed_line(found));
            }
            books.preflight = preflight;
        }
        Err(error) => {
            if let Some(process) = target.process {
                process.stop(target::process::STOP_GRACE).await;
            }
            return Err(error);
        }
    }
    // A first phase with a wall-clock `at` waits for it, everything else up and ready.
    if let Some(wait) =
        plan.starts_at.and_then(|at| std::time::Duration::try_from(at - time::OffsetDateTime::now_utc()).ok())
    {
        tracing::info!(?wait, "waiting for the first phase's `at`");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.as_mut() => {
                if let Some(process) = target.process {
                    process.stop(target::process::STOP_GRACE).await;
                }
                return Err(NothingRun("waiting for the first phase's `at`").into());
            }
        }
    }
    // A split run starts when its shards do: at the instant the desk gave them all.
    if let Some(split) = &books.split {
        println!("waiting for {} load shard(s) to check in at {}", split.shards, split.server.addr);
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let start = async {
            let at = split.desk.start_instant(super::split::CHECK_IN_WAIT).await?;
            super::split::sleep_until_unix_ms(at).await;
            Ok::<(), Vec<u32>>(())
        };
        let started = tokio::select! {
            started = start => started,
            () = shutdown.as_mut() => return Err(NothingRun("waiting for the load shards").into()),
        };
        if let Err(missing) = started {
            return Err(super::split::ShardsMissing { missing, shards: split.shards }.into());
        }
    }
    // Everything is up: from here on, time belongs to the scenario.
    let phases_started_at = time::OffsetDateTime::now_utc();
    let clock = RunClock::start_now();
    let mut interposers: Vec<InterposerHandle> = Vec::with_capacity(plan.upstreams.len());
    let forwarding = mocks.iter().zip(upstream_keys).zip(listeners);
    for (index, (upstream, ((mock, upstream_key), listener))) in
        plan.upstreams.iter().zip(forwarding).enumerate()
    {
        let config = InterposerConfig {
            upstream_index: index,
            upstream_uri: super::upstreams::upstream_uri(upstream, mock.as_ref())?,
            family: upstream.family,
            keys: upstream.keys.clone(),
            clock,
            recorder: books.recorder.clone(),
            replay: options.replay.clone(),
            tls: options.upstream_tls.clone(),
            upstream_key,
            connections: options.connections,
        };
        let interposer = proxy::spawn(listener, config)?;
        if !options.dry_run {
            interposer.set_timeline(timeline(plan, index));
        }
        interposers.push(interposer);
    }

    let state = RunState::new(plan.clone(), clock, books.recorder.clone(), options.dry_run);
    let layers = plan.upstreams.iter().zip(&interposers);
    let live = Arc::new(LiveFaults::new(
        layers
            .map(|(upstream, interposer)| (upstream.name.clone(), upstream.family, interposer.live_layer()))
            .collect(),
        plan.seed,
        options.dry_run,
    ));
    let ops = ops.start(&state, &live, interposers.iter().map(|i| i.addr).collect())?;
    let (stop_load, load_stopped) = watch::channel(false);
    let load = match options.role {
        // The shards drive the load of a split run: this process only keeps time.
        Role::Upstreams { .. } => {
            let sender =
                Sender::new(LoadClient::new(target.client, clock)?, plan.load.mix.clone(), plan.seed);
            let nobody = load::Users { count: 0, think: std::time::Duration::ZERO, numbering: plan.shard };
            load::start_closed(nobody, plan.duration(), sender, clock, books.recorder.clone(), load_stopped)
                .context("starting the load generator")?
        }
        _ => start_load(plan, target.client, clock, &books.recorder, load_stopped)?,
    };
    Ok(Started {
        books,
        journal_writer,
        mocks,
        target: target.process,
        clock,
        phases_started_at,
        interposers,
        state,
        live,
        ops,
        load,
        stop_load,
    })
}

/// Starts the plan's load through `client` on `clock`, recording into `recorder`, until
/// `stopped` turns true or the plan ends.
pub(super) fn start_load(
    plan: &Plan,
    client: crate::load::ClientConfig,
    clock: RunClock,
    recorder: &crate::metrics::Recorder,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<LoadThreads> {
    let sender = Sender::new(LoadClient::new(client, clock)?, plan.load.mix.clone(), plan.seed);
    let recorder = recorder.clone();
    let load = match &plan.load.arrivals {
        Arrivals::Open { process, segments, bursts } => {
            let schedule = Schedule::of_shard(*process, segments.clone(), bursts, plan.seed, plan.shard);
            load::start(schedule, plan.duration(), sender, plan.load.limits, clock, recorder, stopped)
        }
        Arrivals::Closed { users, think } => {
            let users = load::Users { count: *users, think: *think, numbering: plan.shard };
            load::start_closed(users, plan.duration(), sender, clock, recorder, stopped)
        }
    };
    load.context("starting the load generator")
}

/// One upstream's chains for every phase, each with its own seed.
pub(super) fn timeline(plan: &Plan, upstream: usize) -> Timeline {
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
