//! Stage 4, drain: after a stop, faults are removed first, so none fires afterwards; the load
//! stops starting requests and those in flight get the scenario's `drain` (at most
//! [`INTERRUPT_DRAIN`] after an early stop; an interrupt during it shortens it the same way).
//! Then the target, the operations servers, the interposers, the journal and the mocks are
//! shut down in that order. Hands [`Drained`] — the plan as run, the generator's account, the
//! journal's and what each mock received — to [`super::finish`].

use std::{future::Future, pin::Pin, sync::Arc};

use anyhow::Context;

use crate::{
    fault::Chain,
    load::GeneratorStats,
    metrics::{journal::JournalStats, Recorder, RunClock},
    ops::live_faults::LiveFaults,
    proxy::InterposerHandle,
    results::UpstreamCounts,
    scenario::Plan,
    target,
};

use super::{
    play::Stopped, prepare::Bookkeeping, split::records_wait, start::Started, RunOptions, INTERRUPT_DRAIN,
};

/// A run with everything shut down, ready to be analysed.
pub(super) struct Drained {
    pub books: Bookkeeping,
    /// The plan as it ran (a skipped phase shortened it; an early stop ended it there).
    pub as_run: Arc<Plan>,
    pub phases_started_at: time::OffsetDateTime,
    /// How the run stopped; an interrupt during the drain counts.
    pub stopped: Stopped,
    pub generator: GeneratorStats,
    pub journal: JournalStats,
    /// What each upstream received, in the scenario's order.
    pub counts: Vec<UpstreamCounts>,
}

/// Removes the faults after an early stop, drains the load and shuts everything down.
pub(super) async fn drain<S: Future<Output = ()>>(
    run: Started,
    mut stopped: Stopped,
    options: &RunOptions,
    shutdown: Pin<&mut S>,
) -> anyhow::Result<Drained> {
    let Started {
        mut books,
        journal_writer,
        mocks,
        target,
        clock,
        phases_started_at,
        interposers,
        state,
        live,
        ops,
        load,
        stop_load,
    } = run;
    let as_run = state.plan();
    let plan = &*as_run;
    let stopped_early = stopped.early();
    // Faults go first, before anything else waits: none fires after a stop.
    if stopped_early {
        remove_faults(plan, &interposers, &live, clock);
        if stopped.halted_by.is_some() {
            state.set_halted();
        }
    }
    options.progress.finish();
    let _ = stop_load.send(true);
    // No request is meant to start after this: an early stop's plan as run ends here, so its
    // figures and per-second structures cover the time that ran, not the time planned.
    let played = clock.elapsed();
    // An interrupt during the drain shortens it (once interrupted, the shutdown future is spent).
    let interrupted = stopped.interrupted;
    let drain_interrupt = async {
        if interrupted {
            std::future::pending::<()>().await;
        }
        shutdown.await;
        remove_faults(plan, &interposers, &live, clock);
    };
    let bound = if stopped_early { plan.load.drain.min(INTERRUPT_DRAIN) } else { plan.load.drain };
    let (generator, interrupted_in_drain) = load.drain(bound, INTERRUPT_DRAIN, drain_interrupt).await?;
    stopped.interrupted |= interrupted_in_drain;
    // A split run's shards drain their own requests through the interposers, then hand their
    // records over: the interposers stay up until then.
    let generator = match &mut books.split {
        Some(split) => {
            take_shards_records(split, &books.recorder, records_wait(plan)).await.unwrap_or(generator)
        }
        None => generator,
    };
    if let Some(process) = target {
        let stopped = process.stop(target::process::STOP_GRACE).await;
        tracing::info!(?stopped, "target stopped");
    }
    ops.shutdown().await;
    for interposer in interposers {
        interposer.shutdown().await;
    }
    // Every attempt is recorded once its interposer has shut down.
    books.recorder.close_journal();
    let journal = tokio::task::spawn_blocking(move || journal_writer.finish())
        .await
        .context("the journal writer")?
        .context("writing journal.ndjson")?;
    let mut counts = Vec::with_capacity(mocks.len());
    for (upstream, mock) in plan.upstreams.iter().zip(mocks) {
        // A real provider counts nothing for us: its attempts are the interposer's records.
        let received = mock.as_ref().map_or_else(
            || serde_json::Value::Array(Vec::new()),
            |mock| mock.counters().to_json()["counts"].take(),
        );
        counts.push(crate::settle::upstream_counts(upstream, received));
        if let Some(mock) = mock {
            mock.shutdown().await;
        }
    }
    let as_run = if stopped_early { Arc::new(plan.stopped_at(played)) } else { as_run };
    Ok(Drained { books, as_run, phases_started_at, stopped, generator, journal, counts })
}

/// A split run's shards' records, folded into `recorder` once all have reported (or `wait` has
/// passed: the shards missing are kept in `split`); their generators' accounts in one, `None`
/// if none reported.
async fn take_shards_records(
    split: &mut super::prepare::SplitDesk,
    recorder: &Recorder,
    wait: std::time::Duration,
) -> Option<GeneratorStats> {
    println!("waiting for the {} load shard(s)' records", split.shards);
    let (reports, missing) = split.desk.records(wait).await;
    split.missing = missing;
    let mut generator: Option<GeneratorStats> = None;
    for report in reports {
        if report.interrupted {
            split.stopped_early.push(report.index);
        }
        for (intended, gaps_us) in &report.token_gaps {
            recorder.token_gaps(*intended, gaps_us);
        }
        for record in report.logical {
            recorder.logical(record);
        }
        let stats = GeneratorStats::from_parts(&report.generator);
        match &mut generator {
            Some(all) => all.absorb(stats),
            None => generator = Some(stats),
        }
    }
    generator
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
