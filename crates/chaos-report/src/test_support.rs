//! Fixtures for this crate's unit tests: the results of a synthetic run, settled as a real run's
//! are; and the fixtures of the floors below.

use std::time::Duration;

pub use chaos_core::testing::*;
use chaos_core::{
    metrics::{AnswerTiming, LogicalRecord, Outcome, Records},
    results::{Results, RunMeta},
};
pub use chaos_scenario::testing::*;
use chaos_scenario::Plan;

/// The results of a synthetic run of [`plan`]: `calm` (2 s, every request good), `down` (2 s,
/// every request a 503) and `blip` (1 s: ten requests, too few for a verdict), with one
/// expectation that holds, one that fails and one that is inconclusive ([`results_of`]).
pub fn results() -> Results {
    let (plan, mut logical) = calm_then_down(
        2,
        2,
        "  - { name: blip, duration: 1s }",
        "  - availability{phase=calm} >= 99.9%\n  - burn_rate{phase=down} < 14.4\n  \
         - p99{phase=blip} < 1s",
    );
    logical.extend(requests(4, 1, Outcome::Ok));
    results_of(&plan, logical)
}

/// The results of a synthetic run of `plan` whose requests are `logical`, each of one attempt
/// ([`attempt_of`]); a success's first token came 12 ms after its start.
pub fn results_of(plan: &Plan, mut logical: Vec<LogicalRecord>) -> Results {
    for success in logical.iter_mut().filter(|request| request.outcome.is_ok()) {
        let mut answer = AnswerTiming::head_only(success.intended + Duration::from_millis(10));
        answer.first_token = Some(success.intended + Duration::from_millis(12));
        success.answer = Some(answer);
    }
    let attempts = logical.iter().map(attempt_of).collect();
    let analysis =
        chaos_measure::analysis::analyze_records(plan, &Records { logical, attempts, ..Default::default() });
    let checks = chaos_measure::assert::evaluate(&plan.expectations, &analysis);
    let run = RunMeta {
        started_at: "2025-01-02T03:04:05Z".to_owned(),
        elapsed_s: 5.5,
        interrupted: false,
        aborted_by: None,
        halted_by: None,
        dry_run: false,
        phases_started_at: "2025-01-02T03:04:06Z".to_owned(),
    };
    let generator = chaos_runtime::load::GeneratorStats::unscheduled(0).report(plan.load.max_lag);
    crate::settle::results(plan, run, generator, analysis, checks, Vec::new())
}
