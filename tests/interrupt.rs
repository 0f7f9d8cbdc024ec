//! Ctrl-C mid-run: load stops, faults are removed, in-flight requests get a bounded drain,
//! and results for what happened so far are still written (exit 130).

use std::time::{Duration, Instant};

use chaos::{assert::Verdict, Exit};

use crate::support::run_until;

const LONG: &str = r#"
name: interrupted
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini }
phases:
  - name: stuck
    duration: 10m
    faults:
      openai: [{ latency: 10m }]
expect:
  - availability >= 99%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_writes_partial_results_and_loses_nothing_in_flight() {
    let started = Instant::now();
    let (report, _reports) = run_until(LONG, tokio::time::sleep(Duration::from_millis(1500))).await;
    assert!(started.elapsed() < Duration::from_secs(12), "took {:?}", started.elapsed());

    let results = &report.results;
    assert!(results.run.interrupted);
    assert_eq!(results.verdict, Verdict::Interrupted);
    assert_eq!(chaos::exit_for(results.verdict), Exit::Interrupted);
    assert_eq!(Exit::Interrupted.code(), 130);
    // Requests stuck behind the latency fault are recorded as unfinished, not lost; one sent
    // in the instant after the faults were removed may be served.
    let started_requests = results.overall.logical_requests;
    assert!(started_requests >= 10, "{started_requests}");
    let unfinished = results.overall.outcomes.get("unfinished").copied().unwrap_or(0);
    let ok = results.overall.outcomes.get("ok").copied().unwrap_or(0);
    assert_eq!(unfinished + ok, started_requests, "{:?}", results.overall.outcomes);
    assert!(unfinished + 1 >= started_requests, "{:?}", results.overall.outcomes);
    // Each of them reached the interposer, which still recorded the attempt the target gave up on.
    assert!(results.overall.attempts >= started_requests, "{} attempts", results.overall.attempts);
    assert!(
        results.overall.attempt_statuses.contains_key("cancelled"),
        "{:?}",
        results.overall.attempt_statuses
    );
    assert!(report.folder.join("results.json").exists());
}
