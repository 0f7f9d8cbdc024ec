//! Fixtures for unit tests: plans from a few lines of scenario, and synthetic logical records.

use std::time::Duration;

use crate::{
    metrics::{LogicalRecord, Outcome},
    scenario::Plan,
};

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

/// Ten requests a second for `seconds` seconds from `from_s`, each ending with `outcome`.
pub fn requests(from_s: u64, seconds: u64, outcome: Outcome) -> Vec<LogicalRecord> {
    (from_s * 10..(from_s + seconds) * 10)
        .map(|i| {
            let intended = Duration::from_millis(i * 100);
            let finished = intended + Duration::from_millis(20);
            LogicalRecord { id: i, intended, sent: intended, finished, client_attempts: 1, outcome }
        })
        .collect()
}
