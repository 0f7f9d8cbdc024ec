//! Time to fail over and time to recover, from real runs through real sockets: an OpenAI
//! primary with an Anthropic fallback, and a phase in which the primary answers every attempt
//! with a 503. Time to fail over reads to the microsecond (the first fallback's arrival); time to
//! recover has a 1 s resolution, so with the load's arrivals on the tenths of a second it comes
//! out exact.

use chaos::{
    analysis::{transitions::Transitions, Figures},
    assert::CheckStatus,
};

use crate::support::run_until;

/// The scenario with `builtin` as its target: a baseline, the primary down, then healthy again.
fn scenario(builtin: &str) -> String {
    format!(
        r#"
name: failover
seed: 5
upstreams:
  openai: {{ mock: openai }}
  anthropic: {{ mock: anthropic }}
target:
  builtin: {builtin}
load:
  arrival: {{ rate: 10/s }}
  request: {{ model: gpt-4o-mini, prompt_tokens: 50, max_tokens: 5 }}
  drain: 10s
phases:
  - {{ name: baseline, duration: 3s }}
  - name: outage
    duration: 3s
    faults:
      openai: [{{ status: 503 }}]
  - {{ name: recovery, duration: 3s }}
expect:
  - time_to_failover{{phase=outage}} <= 2s
  - time_to_recover{{phase=recovery}} <= 2s
"#
    )
}

async fn phases(builtin: &str) -> (Vec<Figures>, Vec<CheckStatus>, std::path::PathBuf, tempfile::TempDir) {
    let (report, reports) = run_until(&scenario(builtin), std::future::pending()).await;
    let statuses = report.results.expectations.iter().map(|check| check.status).collect();
    (report.results.phases.clone(), statuses, report.folder, reports)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_the_fallback_serves_in_the_outages_first_second() {
    let (phases, statuses, _, _reports) =
        phases("{ upstream: openai, fallbacks: [anthropic], retries: 0 }").await;
    let [baseline, outage, recovery] = &phases[..] else { panic!("three phases") };
    assert_eq!(baseline.transitions, Transitions::default(), "nothing to measure in a baseline");
    // The outage's first request gets its 503 at 3.0 s and is on the fallback a millisecond
    // later. The first request after it goes to the primary again.
    assert_eq!(outage.transitions.failed_over, Some(true));
    let after = outage.transitions.time_to_failover_s.expect("failed over");
    assert!(after < 0.05, "milliseconds, no longer the end of the first second: {after}");
    assert_eq!((outage.transitions.recovered, outage.transitions.time_to_recover_s), (None, None));
    assert_eq!(outage.fallback_rate, Some(1.0));
    assert_eq!(
        (recovery.transitions.recovered, recovery.transitions.time_to_recover_s),
        (Some(true), Some(1.0))
    );
    assert_eq!(recovery.fallback_rate, Some(0.0));
    assert_eq!(statuses, [CheckStatus::Pass; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_backoff_delays_the_failover_by_its_two_waits() {
    let builtin = "{ upstream: openai, fallbacks: [anthropic], retries: 2, backoff: sdk }";
    let (phases, statuses, _, _reports) = phases(builtin).await;
    let [_, outage, recovery] = &phases[..] else { panic!("three phases") };
    // Two retries at the primary first: 0.5 s and 1 s, each less up to 25 % jitter, so the
    // outage's first request reaches the fallback 1.125–1.5 s after 3.0 s.
    let after = outage.transitions.time_to_failover_s.expect("failed over");
    assert!((1.125..1.55).contains(&after), "{:?}", outage.transitions);
    assert_eq!(outage.availability, Some(1.0));
    // Requests meant to start after the outage succeed on the primary at once; only a fallback
    // whose third 503 came a millisecond before the boundary could land in the first second.
    let recovered = recovery.transitions.time_to_recover_s.expect("recovered");
    assert!([1.0, 2.0].contains(&recovered), "{recovered}");
    assert_eq!(statuses, [CheckStatus::Pass; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_fallback_there_is_no_failover_and_the_check_says_never() {
    let (phases, statuses, folder, _reports) = phases("{ upstream: openai, retries: 0 }").await;
    let [_, outage, recovery] = &phases[..] else { panic!("three phases") };
    assert_eq!((outage.transitions.failed_over, outage.transitions.time_to_failover_s), (Some(false), None));
    assert_eq!(outage.availability, Some(0.0));
    assert_eq!(recovery.transitions.time_to_recover_s, Some(1.0));
    assert_eq!(statuses, [CheckStatus::Fail, CheckStatus::Pass]);
    let summary = std::fs::read_to_string(folder.join("summary.md")).expect("summary.md");
    let line = summary.lines().find(|line| line.contains("time_to_failover")).expect("the check's row");
    assert!(line.contains("| never |"), "{line}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("results.json")).expect("results.json"))
            .expect("JSON");
    assert_eq!(written["expectations"][0]["observed"], serde_json::Value::Null);
    assert_eq!(written["phases"][1]["failed_over"], false);
}
