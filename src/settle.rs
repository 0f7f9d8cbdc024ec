//! Settles a finished run (or a merge) into its results: fills the results contract
//! ([`crate::results`]) from what the producers made — the plan, the analysis, the checks, the
//! generator's account, the mocks' counts — and reaches the verdict once, here, so every
//! rendering shows the verdict the file holds.

use crate::{
    analysis::Analysis,
    assert::{self, Stop},
    mock::Counters,
    results::{Check, GeneratorReport, Results, RunMeta, ScenarioInfo, UpstreamCounts, SCHEMA_VERSION},
    scenario::{plan::Upstream, Plan},
};

/// The results of a run of `plan`, its verdict settled from the checks, how the run stopped
/// and whether the generator kept up.
pub fn results(
    plan: &Plan,
    run: RunMeta,
    generator: GeneratorReport,
    analysis: Analysis,
    expectations: Vec<Check>,
    upstreams: Vec<UpstreamCounts>,
) -> Results {
    Results {
        schema_version: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: ScenarioInfo {
            name: plan.name.clone(),
            description: plan.description.clone(),
            file: plan.file.display().to_string(),
            seed: plan.seed,
            target: plan.target.describe(&plan.upstreams),
            primary_upstream: plan.upstreams.get(plan.primary_upstream()).map(|u| u.name.clone()),
            slo_availability: plan.slo.availability,
            slo_period_s: plan.slo.period.as_secs_f64(),
            speed: plan.speed.factor(),
            source: Some(plan.source.clone()),
        },
        verdict: assert::verdict(&expectations, stop(&run), generator.kept_up),
        run,
        generator,
        phases: analysis.phases,
        overall: analysis.overall,
        timeline: analysis.timeline,
        attempt_timeline: analysis.attempt_timeline,
        burn_timeline: analysis.burn_timeline,
        expectations,
        upstreams,
        prices: analysis.prices,
        methods: crate::analysis::methods::notes(),
        environment: crate::results::Environment::default(),
        journal: None,
        replay: None,
        tallies: Some(analysis.tallies),
        merged_from: Vec::new(),
        calibration: None,
    }
}

/// How the run ended, for its verdict.
fn stop(run: &RunMeta) -> Stop {
    match (run.interrupted, &run.halted_by) {
        (true, _) => Stop::Interrupted,
        (false, Some(_)) => Stop::Halted,
        (false, None) => Stop::Ended,
    }
}

/// What one mock upstream received, as the results hold it.
pub fn upstream_counts(upstream: &Upstream, counters: &Counters) -> UpstreamCounts {
    UpstreamCounts {
        name: upstream.name.clone(),
        family: upstream.family,
        zone: upstream.zone.clone(),
        received: counters.to_json()["counts"].take(),
    }
}
