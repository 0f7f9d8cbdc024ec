//! Embeddings through the whole binary: a load of `endpoint: embeddings` requests (16 inputs of
//! 200 tokens) through the interposer to the OpenAI mock, with a stream fault and a status fault
//! on the path. Figures checked: the tokens billed (input only) and their cost at the default
//! table's price, no TTFT, a stream fault that leaves the JSON answer whole, a 429 retried.

use serde_json::Value;

use crate::support::run_binary;

/// In `throttled`, each first attempt gets a 429 asking for a 100 ms wait, and the retry
/// succeeds. 10 requests a second, 1 s a phase; each request bills 16 × 200 = 3,200 input tokens, at
/// text-embedding-3-small's $0.02 per million: $0.000064.
const EMBEDDINGS: &str = r#"
name: embeddings-mix
seed: 5
upstreams:
  openai: { mock: openai, latency: { ttft: 50ms } }
target:
  builtin: { retries: 2 }
load:
  arrival: { rate: 10/s }
  mix:
    - { api: openai, endpoint: embeddings, model: text-embedding-3-small, inputs: 16, input_tokens: 200 }
  drain: 10s
phases:
  - { name: calm, duration: 1s }
  - name: cut
    duration: 1s
    faults:
      openai: [{ cut: { after_events: 1 } }]
  - name: throttled
    duration: 1s
    faults:
      openai: [{ status: 429, retry_after: 100ms, match: { path: /v1/embeddings, header: { x-stainless-retry-count: "0" } } }]
expect:
  - availability == 100%
"#;

/// The figures of phase `name` in a run's results.
pub(crate) fn phase<'a>(results: &'a Value, name: &str) -> &'a Value {
    let phases = results["phases"].as_array().expect("phases");
    phases.iter().find(|phase| phase["name"] == name).expect(name)
}

#[test]
fn an_embeddings_mix_bills_input_tokens_at_the_embeddings_price_and_has_no_ttft() {
    let run = run_binary(EMBEDDINGS);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    let latency = |name| phase(&results, name)["latency_ms"]["p50"].as_f64().expect("latency");
    // The mock's 50 ms and the server's 100 ms wait before each retry: a floor, whatever the load.
    assert!(latency("throttled") >= 150.0, "{}", latency("throttled"));
    for name in ["calm", "cut", "throttled"] {
        let figures = phase(&results, name);
        let requests = figures["logical_requests"].as_u64().expect("requests");
        assert_eq!(requests, 10, "{name}");
        assert_eq!(figures["availability"].as_f64(), Some(1.0), "{name}: every answer whole");
        assert_eq!(figures["billed_input_tokens"].as_u64(), Some(requests * 16 * 200), "{name}");
        assert_eq!(
            figures["billed_output_tokens"].as_u64(),
            Some(0),
            "{name}: an embedding generates nothing"
        );
        assert_eq!(
            figures["estimated_token_share"].as_f64(),
            Some(0.0),
            "{name}: usage read from every answer"
        );
        let cost = figures["cost_per_request_usd"].as_f64().expect("priced");
        assert!((cost - 0.000064).abs() < 1e-12, "{name}: {cost}");
        assert!(figures["ttft_ms"].is_null(), "{name}: no token, no TTFT: {}", figures["ttft_ms"]);
        assert!(figures["latency_ms"]["p50"].as_f64().expect("latency") >= 50.0, "{name}: the mock's TTFT");
    }
    // A stream fault on a JSON answer does nothing: one attempt each, none cut.
    assert_eq!(phase(&results, "cut")["retry_amplification"].as_f64(), Some(1.0));
    // Every first attempt gets the 429 (matched by path); the client's retry gets the answer.
    assert_eq!(phase(&results, "throttled")["retry_amplification"].as_f64(), Some(2.0));
    let prices = results["prices"].as_array().expect("prices");
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[0]["model"], "text-embedding-3-small");
    assert_eq!(prices[0]["input_usd_per_million"].as_f64(), Some(0.02));
}
