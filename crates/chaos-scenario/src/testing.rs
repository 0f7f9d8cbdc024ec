//! Fixtures for unit tests, here and in the crates above (their `testing` feature): plans from
//! a few lines of scenario, and a calm-then-down run's plan with its records.

use chaos_core::{
    metrics::{Aggregate, LogicalRecord, Outcome, Records},
    testing::{attempt_of, requests},
};

use crate::Plan;

/// A plan with one mock OpenAI upstream, load at 10/s, a 99 % SLO over a day, and the given
/// `phases:` and `expect:` entries (YAML list items, indented by two spaces; no expectations
/// when `expect` is empty).
pub fn plan(phases: &str, expect: &str) -> Plan {
    let expect = if expect.is_empty() { String::new() } else { format!("expect:\n{expect}\n") };
    let yaml = format!(
        "name: t\nupstreams:\n  openai: {{ mock: openai }}\nload:\n  arrival: {{ rate: 10/s }}\n  \
         request: {{ model: gpt-4o-mini }}\nphases:\n{phases}\nslo: {{ availability: 99%, period: 1d }}\n{expect}"
    );
    crate::parse(&yaml, std::path::Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// A plan whose phase `calm` lasts `calm_s` seconds and whose phase `down` then answers every
/// request with a 503 for `down_s` seconds (then `more_phases`, YAML list items), and the
/// requests of those two phases: all good, then all 503.
pub fn calm_then_down(
    calm_s: u64,
    down_s: u64,
    more_phases: &str,
    expect: &str,
) -> (Plan, Vec<LogicalRecord>) {
    let phases = format!(
        "  - {{ name: calm, duration: {calm_s}s }}\n  - name: down\n    duration: {down_s}s\n    faults:\n      \
         openai: [{{ status: 503 }}]\n{more_phases}"
    );
    let mut logical = requests(0, calm_s, Outcome::Ok);
    logical.extend(requests(calm_s, down_s, Outcome::HttpError(503)));
    (plan(&phases, expect), logical)
}

/// [`calm_then_down`]'s plan and its requests folded, each with its one attempt ([`attempt_of`]).
pub fn calm_then_down_folded(calm_s: u64, down_s: u64) -> (Plan, Aggregate) {
    let (plan, logical) = calm_then_down(calm_s, down_s, "", "");
    let attempts = logical.iter().map(attempt_of).collect();
    let aggregate =
        Aggregate::from_records(plan.phase_ends(), &Records { logical, attempts, ..Default::default() });
    (plan, aggregate)
}
