//! Stage 5, finish: analyses what was recorded against the plan as run, evaluates the
//! expectations, and writes `results.json` with its renderings into the run's folder. Hands the
//! [`RunReport`] back to the caller of [`super::execute`].

use crate::{
    analysis, assert, report,
    results::{Environment, RunMeta},
    settle,
};

use super::{drain::Drained, play::Stopped, RunOptions, RunReport};

/// Analyses the drained run and writes its results.
pub(super) async fn finish(drained: Drained, options: &RunOptions) -> anyhow::Result<RunReport> {
    let Drained { books, as_run, phases_started_at, stopped, generator, journal, counts } = drained;
    let plan = &*as_run;
    let Stopped { interrupted, aborted_by, halted_by } = stopped;
    let aggregate = match &books.split {
        // The shards' ids interleave: each shard's requests find their phases among its own.
        Some(split) => crate::metrics::Aggregate::new(plan.phase_ends())
            .striped(split.shards)
            .folding(&books.recorder.snapshot()),
        None => books.recorder.aggregate(plan.phase_ends()),
    };
    let analysis = analysis::analyze(plan, &aggregate);
    let checks = assert::evaluate(&plan.expectations, &analysis);
    let run = RunMeta {
        started_at: books.started.format(&time::format_description::well_known::Rfc3339)?,
        elapsed_s: books.wall.elapsed().as_secs_f64(),
        interrupted,
        aborted_by,
        halted_by,
        dry_run: options.dry_run,
        phases_started_at: phases_started_at.format(&time::format_description::well_known::Rfc3339)?,
    };
    let mut generator = generator.report(plan.load.max_lag);
    if let Some(split) = &books.split {
        // Part of the load never reported, or stopped early: the figures are not the plan's.
        let names =
            |indices: &[u32]| indices.iter().map(|i| format!("{i}/{}", split.shards)).collect::<Vec<_>>();
        if !split.missing.is_empty() {
            generator.problems.push(format!(
                "load shard(s) {} handed no records over within {}s of the drain: the load measured is not the plan's",
                names(&split.missing).join(", "),
                super::split::records_wait(plan).as_secs()
            ));
        }
        if !split.stopped_early.is_empty() {
            generator.problems.push(format!(
                "load shard(s) {} were stopped before the end of their load: the load measured is not the plan's",
                names(&split.stopped_early).join(", ")
            ));
        }
        generator.kept_up &= generator.problems.is_empty();
    }
    let results = settle::results(plan, run, generator, analysis, checks, counts)
        .with_environment(Environment::capture(&options.command_line))
        .with_journal(Some(journal), options.replay.as_ref().map(|replay| replay.stats()))
        .with_calibration(options.calibration.clone())
        .with_preflight(books.preflight.clone());
    report::write(&results, &books.folder)?;
    if let Some(split) = books.split {
        split.server.shutdown().await;
    }
    Ok(RunReport { results, folder: books.folder })
}
