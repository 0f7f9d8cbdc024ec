//! Fixtures for unit tests, here and in the crates above (their `testing` feature): synthetic
//! logical records and their attempts, journal run lines, and header maps.

use std::time::Duration;

use crate::metrics::{AttemptOutcome, AttemptRecord, LogicalRecord, Outcome, TokenUsage};

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
        key: None,
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

/// A header map from `(name, value)` pairs.
pub fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
    pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
}
