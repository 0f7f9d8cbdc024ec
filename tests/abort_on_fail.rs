//! `abort_on_fail: true`: once every request of the `down` phase has ended, its failed
//! expectation stops the run — the 30 s phase after it never runs — and the run still writes
//! its results, with a failing verdict and exit 1. A passing phase before it does not stop it.

use crate::support::run_binary;

const FAILS_EARLY: &str = r#"
name: abort-on-fail
seed: 9
upstreams: { openai: { mock: openai } }
target: { builtin: { retries: 0 } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: calm, duration: 2s }
  - { name: down, duration: 2s, faults: { openai: [{ status: 503 }] } }
  - { name: after, duration: 30s }
abort_on_fail: true
expect:
  - availability{phase=calm} >= 99%
  - availability{phase=down} >= 99%
  - availability{phase=after} >= 99%
"#;

#[test]
fn a_failed_phase_stops_the_run_with_results_a_failing_verdict_and_exit_1() {
    let started = std::time::Instant::now();
    let run = run_binary(FAILS_EARLY);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Stopped early (abort_on_fail): `availability{phase=down} >= 99%` failed."),
        "{}",
        run.stdout
    );
    assert!(took.as_secs() < 15, "the 30 s phase should not have run: took {took:?}");

    let results = run.results();
    assert_eq!(results["verdict"], "fail");
    assert_eq!(results["aborted_by"], "availability{phase=down} >= 99%");
    assert_eq!(results["interrupted"], false);
    let checks = results["expectations"].as_array().expect("checks");
    let statuses: Vec<&str> = checks.iter().filter_map(|check| check["status"].as_str()).collect();
    assert_eq!(statuses, ["pass", "fail", "inconclusive"]);
    assert_eq!(results["phases"][1]["logical_requests"], 20);
    assert_eq!(results["phases"][1]["availability"], 0.0);
    let after = results["phases"][2]["logical_requests"].as_u64().expect("a count");
    assert!(after < 20, "the load stopped soon after `down` ended: {after} requests in `after`");
    let summary = std::fs::read_to_string(run.run_folder().join("summary.md")).expect("summary.md");
    assert!(summary.contains(r"**Stopped early \(abort\_on\_fail\): \`availability"), "{summary}");
}
