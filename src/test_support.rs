//! Fixtures for unit tests: plans from a few lines of scenario, synthetic logical records,
//! journal run lines, and header maps.

use std::time::Duration;

use crate::{
    metrics::{AnswerTiming, AttemptOutcome, AttemptRecord, LogicalRecord, Outcome, TokenUsage},
    scenario::Plan,
};

/// A journal's run line for scenario `t` (seed 1, one `openai` upstream) with these phases.
pub fn run_line(phases: &[&str]) -> crate::metrics::journal::RunLine {
    crate::metrics::journal::RunLine {
        kind: "run".to_owned(),
        scenario: "t".to_owned(),
        seed: 1,
        upstreams: vec!["openai".to_owned()],
        zones: vec![None],
        phases: phases.iter().map(|p| p.to_string()).collect(),
        harness_version: "0".to_owned(),
    }
}

/// A plan with one mock OpenAI upstream, load at 10/s, a 99 % SLO over a day, and the given
/// `phases:` and `expect:` entries (YAML list items, indented by two spaces; no expectations
/// when `expect` is empty).
pub fn plan(phases: &str, expect: &str) -> Plan {
    let expect = if expect.is_empty() { String::new() } else { format!("expect:\n{expect}\n") };
    let yaml = format!(
        "name: t\nupstreams:\n  openai: {{ mock: openai }}\nload:\n  arrival: {{ rate: 10/s }}\n  \
         request: {{ model: gpt-4o-mini }}\nphases:\n{phases}\nslo: {{ availability: 99%, period: 1d }}\n{expect}"
    );
    crate::scenario::parse(&yaml, std::path::Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// One logical request of one attempt, sent when meant to, with no answer timings.
pub fn request(id: u64, intended: Duration, finished: Duration, outcome: Outcome) -> LogicalRecord {
    LogicalRecord {
        id,
        intended,
        sent: intended,
        finished,
        client_attempts: 1,
        outcome,
        served_by: None,
        answer: None,
    }
}

/// One request, numbered by when it finished (`at_ms`), that took `latency_ms`.
pub fn finished_at(at_ms: u64, latency_ms: u64, outcome: Outcome) -> LogicalRecord {
    let at = Duration::from_millis(at_ms);
    request(at_ms, at - Duration::from_millis(latency_ms), at, outcome)
}

/// Ten requests a second for `seconds` seconds from `from_s`, each ending with `outcome`.
pub fn requests(from_s: u64, seconds: u64, outcome: Outcome) -> Vec<LogicalRecord> {
    (from_s * 10..(from_s + seconds) * 10)
        .map(|i| {
            let intended = Duration::from_millis(i * 100);
            request(i, intended, intended + Duration::from_millis(20), outcome)
        })
        .collect()
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

/// The one attempt of a synthetic request at upstream 0: a billed 200 for a success, else a
/// fault's answer with the request's status.
pub fn attempt_of(request: &LogicalRecord) -> AttemptRecord {
    let mut attempt = AttemptRecord::arrived(0, 0, Some(request.id), request.sent, Vec::new());
    attempt.model = Some("gpt-4o-mini".to_owned());
    match request.outcome {
        Outcome::HttpError(status) => {
            attempt.outcome = AttemptOutcome::Status(status);
            attempt.injected = true;
        }
        _ => {
            attempt.outcome = AttemptOutcome::Status(200);
            attempt.usage = Some(TokenUsage { input: 1000, output: 100, estimated: false });
        }
    }
    attempt
}

/// [`calm_then_down`]'s plan and its requests folded, each with its one attempt ([`attempt_of`]).
pub fn calm_then_down_folded(calm_s: u64, down_s: u64) -> (Plan, crate::metrics::Aggregate) {
    let (plan, logical) = calm_then_down(calm_s, down_s, "", "");
    let attempts = logical.iter().map(attempt_of).collect();
    let aggregate = crate::metrics::Aggregate::from_records(
        plan.phase_ends(),
        &crate::metrics::Records { logical, attempts },
    );
    (plan, aggregate)
}

/// The results of a synthetic run of [`plan`]: `calm` (2 s, every request good), `down` (2 s,
/// every request a 503) and `blip` (1 s: ten requests, too few for a verdict), with one
/// expectation that holds, one that fails and one that is inconclusive ([`results_of`]).
pub fn results() -> crate::results::Results {
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
pub fn results_of(plan: &Plan, mut logical: Vec<LogicalRecord>) -> crate::results::Results {
    for success in logical.iter_mut().filter(|request| request.outcome.is_ok()) {
        let mut answer = AnswerTiming::head_only(success.intended + Duration::from_millis(10));
        answer.first_token = Some(success.intended + Duration::from_millis(12));
        success.answer = Some(answer);
    }
    let attempts = logical.iter().map(attempt_of).collect();
    let analysis = crate::analysis::analyze_records(plan, &crate::metrics::Records { logical, attempts });
    let checks = crate::assert::evaluate(&plan.expectations, &analysis);
    let run = crate::results::RunMeta {
        started_at: "2025-01-02T03:04:05Z".to_owned(),
        elapsed_s: 5.5,
        interrupted: false,
        aborted_by: None,
        halted_by: None,
        dry_run: false,
        phases_started_at: "2025-01-02T03:04:06Z".to_owned(),
    };
    let generator = crate::load::GeneratorStats::unscheduled(0).report(plan.load.max_lag);
    crate::settle::results(plan, run, generator, analysis, checks, Vec::new())
}

/// A header map from `(name, value)` pairs.
pub fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
    pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
}
