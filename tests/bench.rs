//! `chaos bench` and `chaos run --calibrate`, through the binary: the bench measures real child
//! servers with the real generator and writes figures that add up; a calibrated run records the
//! floor in results.json and shows it in its report; a calibration file that is not a bench's
//! is refused before anything starts.

use crate::support::{chaos, run_binary_with};

/// A short run to calibrate.
const SCENARIO: &str = r#"
name: calibrated
upstreams: { openai: { mock: openai } }
load: { arrival: { rate: 20/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases: [{ name: steady, duration: 1s }]
"#;

#[test]
fn the_quick_bench_measures_direct_against_the_interposer_and_a_bare_relay_and_the_mock_s_streams() {
    let folder = tempfile::tempdir().expect("temp dir");
    let out = folder.path().join("bench.json");
    let (code, stdout, stderr) = chaos(&["bench", "--quick", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for heading in
        ["interposer, no fault", "generator (open model", "mock streams: 50 concurrent × 10 tokens"]
    {
        assert!(stdout.contains(heading), "no {heading:?} in\n{stdout}");
    }
    let bench: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("bench.json")).expect("JSON");
    assert_eq!(bench["schema"], "chaos-bench/1");
    assert_eq!(bench["profile"], "quick");
    let interposer = &bench["interposer"];
    let round = &interposer["rounds"][0];
    // A debug-build interposer adds a millisecond or more: through is slower than direct, and
    // the added figure is their difference.
    let (direct, through) = (
        round["direct_p50_ms"].as_f64().expect("direct"),
        round["proxied_p50_ms"].as_f64().expect("through"),
    );
    assert!(through > direct, "through {through} ms is not slower than direct {direct} ms");
    let added = interposer["added_p50_us"].as_f64().expect("added");
    assert!((added - (through - direct) * 1000.0).abs() < 1e-6, "added {added} µs");
    assert!(round["proxied_per_s"].as_f64().expect("throughput") > 0.0);
    // The bare relay carried the same load in the same round (its answers counted, its own
    // figure beside the interposer's). Whether it beats direct by more than the noise of a
    // loaded machine is not asserted: a test run saw it 0.13 ms faster.
    let relayed = round["relayed_p50_ms"].as_f64().expect("answers came through the relay");
    let relay_added = interposer["relay_added_p50_us"].as_f64().expect("relay added");
    assert!((relay_added - (relayed - direct) * 1000.0).abs() < 1e-6, "relay added {relay_added} µs");
    assert!(round["relayed_per_s"].as_f64().expect("relay throughput") > 0.0, "the relay answered");
    assert!(interposer["relay_cpu_per_request_us"].as_f64().expect("the relay's CPU") > 0.0);
    assert!(stdout.contains("relay adds"), "{stdout}");
    assert!(interposer["cpu_per_request_us"].as_f64().expect("the proxy's CPU") > 0.0);
    let steps = bench["generator"]["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    assert!(steps[0]["achieved_per_s"].as_f64().expect("achieved") > 50.0, "{}", steps[0]);
    for server in ["mock", "bare"] {
        let streams = &bench["streams"][server];
        assert_eq!(streams["events_received"], 500, "every token of every {server} stream arrived");
        for error in [&streams["inter_token_error_ms"], &streams["client_seen_inter_token_error_ms"]] {
            assert!(error["p50"].as_f64().expect("p50") <= error["p99"].as_f64().expect("p99"), "{streams}");
        }
        assert!(streams["peak_rss_mb"].as_f64().expect("RSS") > 1.0);
    }

    // The same file calibrates a run; one that is not a bench's is refused, nothing started.
    let run = run_binary_with(SCENARIO, &[&format!("--calibrate={}", out.display()), "--speed", "1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let floor = &run.results()["calibration"];
    assert_eq!(floor["profile"], "quick");
    assert!(floor["source"].as_str().expect("source").ends_with("bench.json"), "{floor}");
    assert_eq!(floor["interposer_added_p50_ms"].as_f64().expect("added"), added / 1000.0);
    assert_eq!(floor["mock_streams"], 50);

    let not_a_bench = folder.path().join("not-a-bench.json");
    std::fs::write(&not_a_bench, "{\n  \"schema\": 3\n}\n").expect("written");
    let refused = run_binary_with(SCENARIO, &[&format!("--calibrate={}", not_a_bench.display())]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("not-a-bench.json:2:"), "{}", refused.stderr);
    assert!(!std::path::Path::new(&refused.reports).exists(), "nothing may start");
}

#[test]
fn a_calibrated_run_measures_its_floor_first_and_its_report_shows_it() {
    let run = run_binary_with(SCENARIO, &["--calibrate"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("noise floor: interposer"), "{}", run.stdout);
    let results = run.results();
    let floor = &results["calibration"];
    assert_eq!(floor["source"], "measured before this run");
    assert_eq!(floor["profile"], "calibration");
    assert_eq!(floor["interposer_rate"], 1000);
    assert_eq!(floor["mock_streams"], 200);
    assert!(floor["interposer_added_p50_ms"].as_f64().is_some(), "{floor}");
    assert!(floor["generator_lag_p99_ms"].as_f64().expect("lag") >= 0.0);
    assert!(floor["mock_inter_token_error_p99_ms"].as_f64().expect("mock error") >= 0.0);
    let html = std::fs::read_to_string(run.run_folder().join("report.html")).expect("report.html");
    assert!(html.contains("measured before this run"), "the header names the floor's source");
    assert!(!html.contains("not measured in this run"));
    let summary = std::fs::read_to_string(run.run_folder().join("summary.md")).expect("summary.md");
    assert!(summary.contains("Noise floor: interposer"), "{summary}");
}
