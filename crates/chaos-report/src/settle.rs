//! Settles a finished run (or a merge) into its results: fills the results contract
//! ([`crate::results`]) from what the producers made — the plan, the analysis, the checks, the
//! generator's account, the mocks' counts — and reaches the verdict once, here, so every
//! rendering shows the verdict the file holds.

use crate::{
    analysis::Analysis,
    assert::{self, Stop},
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
            source: Some(crate::results::redact_source(&plan.source)),
            shard: (!plan.shard.is_whole())
                .then_some(crate::results::ShardOf { index: plan.shard.index, count: plan.shard.count }),
        },
        verdict: assert::verdict(&expectations, stop(&run), run_valid(&generator, &analysis)),
        run,
        generator,
        phases: analysis.phases,
        overall: analysis.overall,
        timeline: analysis.timeline,
        attempt_timeline: analysis.attempt_timeline,
        burn_timeline: analysis.burn_timeline,
        timeline_step_s: analysis.timeline_step_s,
        expectations,
        upstreams,
        keys: crate::analysis::keys::key_figures(plan.target.key_pool(), &analysis.tallies.overall()),
        prices: analysis.prices,
        methods: crate::analysis::methods::notes(),
        environment: crate::results::Environment::default(),
        journal: None,
        replay: None,
        tallies: Some(analysis.tallies),
        merged_from: Vec::new(),
        calibration: None,
        preflight: None,
    }
}

/// Whether the run measured what it meant to: the generator kept up, and no phase's requests
/// went around the interposers ([`crate::results::bypassed`]).
fn run_valid(generator: &GeneratorReport, analysis: &Analysis) -> bool {
    generator.kept_up && crate::results::bypassed(&analysis.phases).next().is_none()
}

/// How the run ended, for its verdict.
fn stop(run: &RunMeta) -> Stop {
    match (run.interrupted, &run.halted_by) {
        (true, _) => Stop::Interrupted,
        (false, Some(_)) => Stop::Halted,
        (false, None) => Stop::Ended,
    }
}

/// What one mock upstream received (its counters' `counts`), as the results hold it.
pub fn upstream_counts(upstream: &Upstream, received: serde_json::Value) -> UpstreamCounts {
    UpstreamCounts {
        name: upstream.name.clone(),
        family: upstream.family,
        zone: upstream.zone.clone(),
        url: upstream.remote.as_ref().map(|remote| remote.url.clone()),
        received,
    }
}

/// The results schema (in `chaos-core`) against the results a run settles into: it lives here,
/// where a whole synthetic run can be settled.
#[cfg(test)]
mod schema_tests {
    use serde_json::Value;

    use crate::results::{results_schema, SCHEMA_VERSION};

    /// The property names an object schema describes, or the keys an object holds, sorted.
    fn names(object: &Value) -> Vec<String> {
        let mut names: Vec<String> =
            object.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn the_schema_describes_the_fields_serde_writes_and_no_others() {
        let schema = results_schema();
        let written = serde_json::to_value(crate::test_support::results()).expect("serializes");
        // `run` is flattened into the top level; `Expectation` into each check, less its skipped
        // `phase` index (the check's own `phase` is a name).
        let pairs = [
            (&schema["properties"], &written),
            (&schema["$defs"]["Check"]["properties"], &written["expectations"][0]),
            (&schema["$defs"]["Figures"]["properties"], &written["overall"]),
        ];
        for (described, fields) in pairs {
            assert!(!names(fields).is_empty(), "the fixture lacks a part: {written}");
            assert_eq!(names(described), names(fields));
        }
        let check = &schema["$defs"]["Check"];
        assert_eq!(check["properties"]["phase"]["type"], serde_json::json!(["string", "null"]));
        let required = check["required"].as_array().expect("required");
        assert!(required.contains(&"observed".into()), "an Option serde always writes is required");
        assert_eq!(schema["properties"]["schema_version"]["const"], SCHEMA_VERSION);
    }
}

/// A run whose target went around the interposers.
#[cfg(test)]
mod bypass_tests {
    use crate::results::{bypass_notes, bypassed};

    #[test]
    fn a_phase_that_sent_requests_with_no_attempt_is_named_and_no_other() {
        let mut results = crate::test_support::results();
        assert_eq!(bypassed(&results.phases).count(), 0, "every synthetic request has its attempt");
        results.phases[0].attempts = 0;
        let notes = bypass_notes(&results.phases);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0]
            .starts_with("Invalid: in phase calm, 20 requests were sent but none reached an interposer"));
    }
}
