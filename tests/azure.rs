//! Azure OpenAI end to end: the mock's answers (content-filter results, the stream's first
//! chunk of prompt results), its platform errors (a missing `api-version`, a wrong `api-key`, a
//! 429 with `retry-after-ms` and `x-ms-retry-after-ms`); the interposer reading the model from the
//! deployment in the path and passing an answer through byte for byte; and a whole run of
//! `api: azure` load against `mock: azure`, billed at the deployment's model's price.

use chaos::{
    fault::{Chain, FaultAction, FaultRule, Matcher, StatusFault},
    metrics::Recorder,
    mock::{MockBuilder, MockHandle, RateLimits},
    wire::ApiFamily,
};
use serde_json::{json, Value};

use crate::embeddings::phase;
use crate::mocks::{chat, send, send_to};
use crate::support::run_binary;

const CHAT: &str = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21";
const AUTH: [(&str, &str); 1] = [("api-key", "az-test")];

async fn azure() -> MockHandle {
    MockBuilder::new(ApiFamily::Azure).spawn().await.expect("mock starts")
}

#[tokio::test]
async fn an_answer_carries_azure_s_content_filter_results_and_the_deployment_as_model() {
    let mock = azure().await;
    let answer = send(&mock, CHAT, &AUTH, &chat(json!({ "model": "ignored", "max_tokens": 5 }))).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("apim-request-id").len() == 36);
    let body = answer.json();
    assert_eq!(body["model"], "gpt-4o-mini", "the deployment, not the body's model");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["prompt_filter_results"][0]["content_filter_results"]["hate"]["filtered"], false);
    assert_eq!(body["choices"][0]["content_filter_results"]["violence"]["severity"], "safe");
    assert_eq!(body["usage"]["completion_tokens"], 5);
    assert!(mock.counters().snapshot().keys().any(|(_, model)| model == "gpt-4o-mini"));
}

#[tokio::test]
async fn a_stream_begins_with_the_prompt_results_and_ends_as_openai_s_does() {
    let mock = azure().await;
    let asked = chat(json!({ "max_tokens": 3, "stream": true, "stream_options": { "include_usage": true } }));
    let events = send(&mock, CHAT, &[("authorization", "Bearer az-entra")], &asked).await.events();
    let data: Vec<&str> = events.iter().map(|(_, data)| data.as_str()).collect();
    assert_eq!(data.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> =
        data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    // Prompt results, role, 3 tokens, finish, usage.
    assert_eq!(chunks.len(), 7, "{data:?}");
    assert_eq!(chunks[0]["choices"], json!([]));
    assert!(chunks[0]["prompt_filter_results"].is_array());
    assert_eq!(chunks[1]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[2]["choices"][0]["content_filter_results"]["sexual"].is_object());
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "length", "cut at max_tokens");
    assert_eq!(chunks[6]["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn a_deployment_s_embeddings_answer_as_openai_s_do() {
    let mock = azure().await;
    let path = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    let body = json!({ "input": ["chaos", "tests"], "encoding_format": "float" }).to_string();
    let answer = send(&mock, path, &AUTH, &body).await;
    assert_eq!(answer.status, 200);
    let answer = answer.json();
    assert_eq!(answer["model"], "text-embedding-3-small", "the deployment");
    assert_eq!(answer["data"][1]["embedding"].as_array().map(Vec::len), Some(1536));
    assert_eq!(answer["usage"]["prompt_tokens"], 4);
}

#[tokio::test]
async fn platform_errors_come_in_azure_s_shape() {
    let mock = MockBuilder::new(ApiFamily::Azure).keys(vec!["az-right".into()]).spawn().await.expect("mock");
    let no_version = "/openai/deployments/gpt-4o-mini/chat/completions";
    let missing = send(&mock, no_version, &[("api-key", "az-right")], &chat(json!({}))).await;
    assert_eq!((missing.status, missing.json()["error"]["code"].clone()), (404, json!("404")));
    let denied = send(&mock, CHAT, &[("api-key", "az-wrong")], &chat(json!({}))).await;
    assert_eq!(denied.status, 401);
    assert!(denied.json()["error"]["message"].as_str().unwrap().starts_with("Access denied"));
    let openai_path = send(&mock, "/v1/chat/completions", &[("api-key", "az-right")], &chat(json!({}))).await;
    assert_eq!(openai_path.status, 404);
}

#[tokio::test]
async fn an_exhausted_limit_answers_azure_s_429_with_every_wait_header() {
    let limits = RateLimits::per_minute(Some(1), None);
    let mock = MockBuilder::new(ApiFamily::Azure).limits(limits).spawn().await.expect("mock starts");
    assert_eq!(send(&mock, CHAT, &AUTH, &chat(json!({}))).await.status, 200);
    let limited = send(&mock, CHAT, &AUTH, &chat(json!({}))).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), "60");
    let wait: u64 = limited.header("retry-after-ms").parse().expect("milliseconds");
    assert!((59_000..=60_000).contains(&wait), "{wait}");
    assert_eq!(limited.header("x-ms-retry-after-ms"), limited.header("retry-after-ms"));
    assert_eq!(limited.header("x-ratelimit-remaining-requests"), "0");
    let body = limited.json();
    assert_eq!(body["error"]["code"], "429");
    assert!(body["error"]["message"].as_str().unwrap().contains("exceeded call rate limit"), "{body}");
}

/// An Azure answer as a fixed byte string, so the interposer's copy can be compared byte for byte.
const STREAM: &[u8] = b"data: {\"choices\":[],\"prompt_filter_results\":[]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"index\":0}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n";

/// A recording upstream that answers every request with `answer` (an event stream), behind an
/// interposer of `family` whose only fault answers a 429 to requests for `model`.
pub(crate) async fn answering_behind_an_interposer(
    family: ApiFamily,
    answer: &[u8],
    model: &str,
) -> (wiremock::MockServer, chaos::proxy::InterposerHandle, Recorder) {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    let template = ResponseTemplate::new(200).set_body_raw(answer.to_vec(), "text/event-stream");
    Mock::given(method("POST")).respond_with(template).mount(&upstream).await;
    let recorder = Recorder::new();
    let mut config = crate::support::interposer_config(&upstream.uri(), Vec::new(), &recorder);
    config.family = family;
    let interposer = crate::support::interposer_with(config).await;
    let fault = StatusFault { status: 429, family, retry_after: None, quota: false, should_retry: None };
    let rule = FaultRule {
        matcher: Matcher { model: Some(model.into()), ..Matcher::default() },
        ..FaultRule::new(FaultAction::Status(fault), 1.0)
    };
    interposer.set_chain(0, Chain::new(vec![rule], 1));
    (upstream, interposer, recorder)
}

#[tokio::test]
async fn the_interposer_matches_the_deployment_in_the_path_and_passes_the_rest_byte_identical() {
    let (upstream, interposer, recorder) =
        answering_behind_an_interposer(ApiFamily::Azure, STREAM, "prod-4o").await;

    // The body names another model: the deployment in the path is what the fault matches.
    let body = r#"{ "model":"prod-4o", "messages": [{"role":"user","content":"x"}], "stream": true }"#;
    let spared = "/openai/deployments/prod-mini/chat/completions?api-version=2024-10-21";
    let passed = send_to(interposer.addr, spared, &AUTH, body).await;
    assert_eq!((passed.status, passed.body()), (200, STREAM.to_vec()));
    let hit = "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21";
    let limited = send_to(interposer.addr, hit, &AUTH, &body.replace("prod-4o", "prod-mini")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["code"], "429");
    assert!(!limited.header("x-ms-retry-after-ms").is_empty());

    let seen = upstream.received_requests().await.expect("recording on");
    assert_eq!(seen.len(), 1, "the matched request never reached the upstream");
    assert_eq!(
        (seen[0].url.path(), seen[0].url.query()),
        ("/openai/deployments/prod-mini/chat/completions", Some("api-version=2024-10-21"))
    );
    assert_eq!(seen[0].body, body.as_bytes());
    assert_eq!(seen[0].headers.get("api-key").map(|v| v.to_str().unwrap()), Some("az-test"));
    let attempts = crate::support::settled_attempts(&recorder, 2).await;
    let models: Vec<Option<&str>> = attempts.iter().map(|a| a.model.as_deref()).collect();
    assert!(models.contains(&Some("prod-mini")) && models.contains(&Some("prod-4o")), "{models:?}");
}

/// A run of `api: {family}` load against `mock: {family}` through the interposer, 10 streamed
/// requests a second of `model` (100 prompt tokens, 20 output): `calm`, then `cut` (each stream cut
/// after 3 events), then `retried` under `fault` on first attempts. Checks what every dialect must
/// give (calm answers whole and billed from their usage at `price` per million input and output
/// tokens; every cut stream seen as cut; every retried request answered after one retry) and
/// returns the results.
pub(crate) fn run_calm_cut_and_retried(family: &str, model: &str, price: (f64, f64), fault: &str) -> Value {
    let scenario = format!(
        r#"
name: {family}-mix
seed: 3
upstreams: {{ {family}: {{ mock: {family}, latency: {{ ttft: 20ms }} }} }}
target: {{ builtin: {{ retries: 2 }} }}
load:
  request: {{ api: {family}, model: {model}, stream: true, prompt_tokens: 100, max_tokens: 20 }}
  arrival: {{ rate: 10/s }}
phases:
  - {{ name: calm, duration: 1s }}
  - {{ name: cut, duration: 1s, faults: {{ {family}: [{{ cut: {{ after_events: 3 }} }}] }} }}
  - name: retried
    duration: 1s
    faults:
      {family}: [{{ {fault}, match: {{ header: {{ x-stainless-retry-count: "0" }} }} }}]
"#
    );
    let run = run_binary(&scenario);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    let calm = phase(&results, "calm");
    assert_eq!(calm["availability"].as_f64(), Some(1.0), "{calm}");
    assert_eq!(calm["billed_output_tokens"].as_u64(), Some(10 * 20), "{calm}");
    assert_eq!(calm["estimated_token_share"].as_f64(), Some(0.0), "usage read from each stream");
    let cost = calm["cost_per_request_usd"].as_f64().expect("priced");
    let expected = (calm["billed_input_tokens"].as_f64().unwrap() / 10.0 * price.0 + 20.0 * price.1) / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} against {expected}");
    let cut = phase(&results, "cut");
    assert_eq!(cut["outcomes"]["stream_cut"].as_u64(), Some(10), "a cut stream is no answer: {cut}");
    let retried = phase(&results, "retried");
    assert_eq!(retried["retry_amplification"].as_f64(), Some(2.0), "{retried}");
    assert_eq!(retried["availability"].as_f64(), Some(1.0), "{retried}");
    assert_eq!(results["upstreams"][0]["family"], family);
    results
}

#[test]
fn an_azure_load_is_billed_cut_and_retried_on_azure_s_429() {
    let results =
        run_calm_cut_and_retried("azure", "gpt-4o-mini", (0.15, 0.60), "status: 429, retry_after: 100ms");
    // The client waited the 100 ms `retry-after-ms` asked for, not its own backoff of ~500 ms.
    let retried = phase(&results, "retried")["latency_ms"]["p50"].as_f64().expect("latency");
    assert!((100.0..450.0).contains(&retried), "{retried}");
}
