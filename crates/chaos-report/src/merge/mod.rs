//! `chaos merge`: one results document from the results of several runs of the same scenario
//! (load spread over machines). The scenario is read back from the text the first run recorded;
//! the runs' tallies add up — counts exactly, HDR histograms exactly — and every figure,
//! expectation and the verdict are computed again from the sum by the same analysis a single run
//! goes through ([`crate::analysis::analyze_folded`]). What only survives as figures is combined
//! as well as it can be: per-second counts add up, per-second percentiles become an upper bound
//! (`metrics::timeline::merge`), generator lateness the worst of the runs'.

pub use crate::results::MergedRun;

mod compat;
mod parts;

use std::path::{Path, PathBuf};

pub use compat::MergeError;

use crate::results::{Environment, Results};
use crate::{
    analysis::{self, downsample, upstream_timeline, Folded},
    assert,
    metrics::{timeline, Tallies},
};

/// Merges runs of one scenario (at least one), read from the files named beside them: shards
/// of its load, or, with `replicas`, any runs of it ([`compat`]); `command_line` is the merge's
/// own, for its `environment`.
pub fn merge(
    runs: &[(PathBuf, Results)],
    replicas: bool,
    command_line: &[String],
) -> Result<Results, MergeError> {
    compat::check(runs, replicas)?;
    let Some((first_path, first)) = runs.first() else {
        return Err(MergeError::NotMergeable { path: PathBuf::from("(no results)") });
    };
    let source = first.scenario.source.as_deref().unwrap_or_default();
    // The plan as the first run played it: at its speed, its wall-clock `at`s resolved as
    // when it started.
    let started =
        time::OffsetDateTime::parse(&first.run.started_at, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let speed = crate::speed::Speed::new(first.scenario.speed).unwrap_or(crate::speed::Speed::REAL_TIME);
    let plan = crate::scenario::parse_allowing_remote(source, Path::new(&first.scenario.file), true)
        .map_err(|error| compat::scenario_error(first_path, error))?
        .at_speed(speed)
        .anchored(started);
    let plan = as_run(plan, &first.phases);
    let mut tallies = Tallies::default();
    for (path, results) in runs {
        let run = results.tallies.as_ref().ok_or_else(|| MergeError::NotMergeable { path: path.clone() })?;
        if run.phases.len() != plan.phases.len() {
            let (found, expected) = (run.phases.len(), plan.phases.len());
            return Err(MergeError::Inconsistent { path: path.clone(), found, expected });
        }
        tallies.merge(run);
    }
    // Runs of different lengths may hold their timelines at different steps: the coarsest
    // holds them all (each step divides the next).
    let step = runs.iter().map(|(_, r)| r.timeline_step_s).max().unwrap_or(1);
    let timelines: Vec<_> = runs.iter().map(|(_, r)| downsample::timeline(&r.timeline, step)).collect();
    let folded = Folded {
        tallies,
        timeline: timeline::merge(timelines.iter().map(Vec::as_slice)),
        attempt_timeline: upstream_timeline::merge(
            runs.iter().map(|(_, r)| r.attempt_timeline.as_slice()),
            step,
        ),
        step_s: step,
    };
    let analysis = analysis::analyze_folded(&plan, folded);
    let checks = assert::evaluate(&plan.expectations, &analysis);
    let files: Vec<String> = runs.iter().map(|(path, _)| path.display().to_string()).collect();
    let mut generator = parts::generator(
        files.iter().zip(runs).map(|(file, (_, results))| (file.as_str(), &results.generator)),
    );
    if let Some(missing) = missing_shards(runs) {
        // Never a partial PASS: the load the shards measured is not the plan's.
        generator.problems.push(format!("shard(s) {missing} missing: the load measured is not the plan's"));
        generator.kept_up = false;
    }
    let upstreams = parts::upstreams(runs.iter().map(|(_, r)| r.upstreams.as_slice()))
        .map_err(|problem| MergeError::Unreadable { files: files.clone(), problem })?;
    let merged = crate::settle::results(
        &plan,
        parts::run_meta(runs.iter().map(|(_, r)| &r.run)),
        generator,
        analysis,
        checks,
        upstreams,
    );
    let merged_from = files
        .into_iter()
        .zip(runs)
        .map(|(file, (_, results))| MergedRun {
            file,
            started_at: results.run.started_at.clone(),
            elapsed_s: results.run.elapsed_s,
            logical_requests: results.overall.logical_requests,
            verdict: results.verdict,
            environment: results.environment.clone(),
            shard: results.scenario.shard,
        })
        .collect();
    // The runs probed one target the same way: the first run's preflight speaks for them.
    let merged =
        merged.with_environment(Environment::capture(command_line)).with_preflight(first.preflight.clone());
    Ok(Results { merged_from, ..merged })
}

/// The plan with each phase's window as the runs played it (`compat` checked that they all
/// played the same): shortened by a skip or an early stop, so the merge's figures, like each
/// run's, cover the time that ran.
fn as_run(mut plan: crate::scenario::Plan, played: &[crate::results::Figures]) -> crate::scenario::Plan {
    if played.len() != plan.phases.len() {
        return plan;
    }
    let seconds = |s: f64| std::time::Duration::try_from_secs_f64(s).ok();
    for (phase, figures) in plan.phases.iter_mut().zip(played) {
        let Some((start, duration)) = seconds(figures.start_s).zip(seconds(figures.duration_s)) else {
            continue;
        };
        // A run's own figures carry its phases' windows to the nanosecond, give or take f64.
        if start.abs_diff(phase.start) > MOVED || duration.abs_diff(phase.duration) > MOVED {
            (phase.start, phase.duration) = (start, duration);
        }
    }
    plan
}

/// Less than this apart, a window as played is the planned one.
const MOVED: std::time::Duration = std::time::Duration::from_micros(1);

/// The shards of the runs' split that none of them played, as `K/N, …`; `None` when all are
/// there (or the runs are not shards).
fn missing_shards(runs: &[(PathBuf, Results)]) -> Option<String> {
    let shards: Vec<crate::results::ShardOf> = runs.iter().filter_map(|(_, r)| r.scenario.shard).collect();
    let count = shards.first()?.count;
    let missing: Vec<String> = (0..count)
        .filter(|index| !shards.iter().any(|shard| shard.index == *index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        metrics::{LogicalRecord, Outcome},
        test_support::{calm_then_down, request, results_of},
    };

    /// Requests of one run of two: run `part` (0 or 1) takes every other slot, so that ids grow
    /// with intended start in each run and in their union; latencies spread over 5–500 ms.
    fn requests(part: u64, logical: &[LogicalRecord]) -> Vec<LogicalRecord> {
        logical
            .iter()
            .filter(|r| r.id % 2 == part)
            .map(|r| {
                let latency = Duration::from_millis(5 + (r.id * 37) % 500);
                request(r.id, r.intended, r.intended + latency, r.outcome)
            })
            .collect()
    }

    fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
        serde_json::to_value(value).expect("serializes")
    }

    #[test]
    fn merging_two_runs_gives_the_figures_of_one_run_fed_both_runs_records() {
        let (plan, logical) =
            calm_then_down(4, 4, "", "  - p99{phase=calm} < 400ms\n  - availability{phase=down} > 1%");
        let (a, b) = (requests(0, &logical), requests(1, &logical));
        let union: Vec<LogicalRecord> = a.iter().chain(&b).cloned().collect();
        let shard = |results: Results, index| Results {
            scenario: crate::results::ScenarioInfo {
                shard: Some(crate::results::ShardOf { index, count: 2 }),
                ..results.scenario
            },
            ..results
        };
        let runs = [
            (PathBuf::from("a.json"), shard(results_of(&plan, a), 0)),
            (PathBuf::from("b.json"), shard(results_of(&plan, b), 1)),
        ];
        let merged = merge(&runs, false, &["chaos".to_owned()]).expect("merges");
        let whole = results_of(&plan, union);
        assert_eq!(json(&merged.phases), json(&whole.phases));
        assert_eq!(json(&merged.overall), json(&whole.overall));
        assert_eq!(json(&merged.burn_timeline), json(&whole.burn_timeline));
        assert_eq!(json(&merged.attempt_timeline), json(&whole.attempt_timeline));
        assert_eq!(json(&merged.expectations), json(&whole.expectations));
        assert_eq!(merged.verdict, whole.verdict);
        // Not a coincidence of equal halves: each run alone has other percentiles.
        let calm = |results: &Results| results.phases[0].latency_ms.expect("latencies");
        assert_ne!(calm(&runs[0].1), calm(&merged));
        assert_eq!(merged.overall.logical_requests, 80);
        assert_eq!(merged.phases[1].outcomes["http_503"], 40);
        assert_eq!(merged.merged_from.len(), 2);
        assert_eq!(merged.merged_from[1].shard, Some(crate::results::ShardOf { index: 1, count: 2 }));
        assert_eq!(merged.scenario.shard, None, "the shards add up to the whole load");
        let alone = merge(&runs[..1], false, &[]).expect("merges");
        assert_eq!(alone.verdict, crate::results::Verdict::Invalid, "a shard missing is never a pass");
        assert!(alone
            .generator
            .problems
            .iter()
            .any(|p| p == "shard(s) 1/2 missing: the load measured is not the plan's"));
        assert_eq!(merged.generator.sent, runs[0].1.generator.sent + runs[1].1.generator.sent);
    }

    #[test]
    fn tallies_read_back_from_json_merge_the_same() {
        let (plan, logical) = calm_then_down(2, 2, "", "");
        let results =
            results_of(&plan, logical.into_iter().filter(|r| r.outcome != Outcome::Timeout).collect());
        let text = serde_json::to_string(&results).expect("serializes");
        let back: Results = serde_json::from_str(&text).expect("reads back");
        let runs = [(PathBuf::from("a.json"), results.clone()), (PathBuf::from("b.json"), back)];
        let merged = merge(&runs, true, &[]).expect("merges as replicas");
        let doubled = |results: &Results| results.tallies.as_ref().expect("tallies").overall().latency.len();
        assert_eq!(doubled(&merged), 2 * doubled(&results));
        assert_eq!(merged.phases[0].latency_ms, results.phases[0].latency_ms, "the same values twice");
    }
}
