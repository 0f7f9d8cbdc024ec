//! The built-in client speaking Bedrock Converse: a run of load against `mock: bedrock`, half of
//! it streamed (AWS event-stream frames), through a phase of injected 429s and one of cut
//! streams, checked against the mock's own counters and billed at the Bedrock model's price.

use serde_json::Value;

use crate::azure::run_calm_cut_and_retried;
use crate::embeddings::phase;
use crate::support::run_binary;

/// `amazon.nova-micro-v1:0`'s price per million input and output tokens (the price table).
const NOVA_MICRO: (f64, f64) = (0.035, 0.14);

#[test]
fn a_bedrock_stream_load_is_billed_cut_by_its_missing_message_stop_and_retried_on_a_429() {
    let results = run_calm_cut_and_retried("bedrock", "amazon.nova-micro-v1:0", NOVA_MICRO, "status: 429");
    assert_eq!(phase(&results, "retried")["attempt_statuses"]["429"].as_u64(), Some(10), "{results}");
}

/// The sum of an upstream's `received` rows: what its mock counted.
fn received(results: &Value, upstream: usize) -> u64 {
    let rows = results["upstreams"][upstream]["received"].as_array().expect("rows");
    rows.iter().map(|row| row["requests"].as_u64().expect("a count")).sum()
}

#[test]
fn half_streamed_converse_load_matches_the_mock_s_counters_through_429s_and_cuts() {
    let scenario = r#"
name: bedrock-load
seed: 5
upstreams: { bedrock: { mock: bedrock, keys: 2, latency: { ttft: 10ms } } }
target: { builtin: { retries: 2, keys: pool } }
load:
  mix:
    - { weight: 1, api: bedrock, model: amazon.nova-micro-v1:0, stream: true, prompt_tokens: 100, max_tokens: 20 }
    - { weight: 1, api: bedrock, model: amazon.nova-micro-v1:0, stream: false, prompt_tokens: 100, max_tokens: 20 }
  arrival: { rate: 20/s }
phases:
  - { name: calm, duration: 1s }
  - { name: cut, duration: 1s, faults: { bedrock: [{ cut: { after_events: 3 } }] } }
  # Last, so no retry lands in the cut phase's fault.
  - name: throttled
    duration: 1s
    faults:
      bedrock: [{ status: 429, probability: 30%, match: { header: { x-stainless-retry-count: "0" } } }]
"#;
    let run = run_binary(scenario);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    let attempts = results["overall"]["attempts"].as_u64().expect("attempts");
    let injected: u64 = ["calm", "cut", "throttled"]
        .iter()
        .filter_map(|name| phase(&results, name)["attempt_statuses"]["429"].as_u64())
        .sum();
    assert!(injected > 0, "some first attempts throttled: {results}");
    assert_eq!(
        received(&results, 0),
        attempts - injected,
        "every attempt but the interposer's 429s reached the mock"
    );
    // Both keys of the pool presented as Bedrock API keys, read back by index, never by value.
    let rows = results["upstreams"][0]["received"].as_array().expect("rows");
    let keys: std::collections::BTreeSet<(&str, &str)> =
        rows.iter().map(|row| (row["key"].as_str().unwrap(), row["model"].as_str().unwrap())).collect();
    let model = "amazon.nova-micro-v1:0";
    assert_eq!(keys, [("key-0", model), ("key-1", model)].into(), "{rows:?}");
    for entry in std::fs::read_dir(run.run_folder()).expect("run folder") {
        let written = std::fs::read(entry.expect("an entry").path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&written).contains("sk-chaos-bedrock"), "a key in a record");
    }

    let calm = phase(&results, "calm");
    assert_eq!(calm["availability"].as_f64(), Some(1.0), "{calm}");
    assert_eq!(calm["estimated_token_share"].as_f64(), Some(0.0), "usage read from every answer: {calm}");
    assert!(calm["ttft_ms"]["p50"].as_f64().is_some_and(|ttft| ttft >= 10.0), "{calm}");
    let cost = calm["cost_per_request_usd"].as_f64().expect("priced");
    let requests = calm["logical_requests"].as_f64().expect("requests");
    let output = calm["billed_output_tokens"].as_f64().expect("output");
    let expected = (calm["billed_input_tokens"].as_f64().unwrap() * NOVA_MICRO.0 + output * NOVA_MICRO.1)
        / 1e6
        / requests;
    assert!((cost - expected).abs() < 1e-12, "{cost} against {expected}");
    assert_eq!(output, requests * 20.0, "{calm}");

    let throttled = phase(&results, "throttled");
    assert_eq!(throttled["availability"].as_f64(), Some(1.0), "every 429 retried to an answer: {throttled}");

    let cut = phase(&results, "cut");
    let streamed = cut["outcomes"]["stream_cut"].as_u64().expect("cut streams");
    let whole = cut["outcomes"]["ok"].as_u64().expect("whole answers");
    assert!(streamed > 0 && whole > 0, "the streamed half cut, the JSON half whole: {cut}");
    assert_eq!(cut["incomplete_streams"].as_u64(), Some(streamed), "{cut}");
    assert_eq!(streamed + whole, cut["logical_requests"].as_u64().unwrap(), "{cut}");
}
