//! Gemini end to end: the mock's answers and streams (`usageMetadata`, the finish on the last
//! event, no terminator), its keys (`x-goog-api-key` or `?key=`) and Google's errors; the
//! interposer reading the model and the stream flag from the path and passing an answer through
//! byte for byte; and a whole run of `api: gemini` load against `mock: gemini`, billed at the
//! model's price.

use chaos::{
    mock::{MockBuilder, MockHandle, RateLimits},
    wire::ApiFamily,
};
use serde_json::{json, Value};

use crate::azure::{answering_behind_an_interposer, run_calm_cut_and_retried};
use crate::embeddings::phase;
use crate::mocks::{send, send_to};

const GENERATE: &str = "/v1beta/models/gemini-2.0-flash:generateContent";
const STREAM: &str = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";
const AUTH: [(&str, &str); 1] = [("x-goog-api-key", "AIza-test")];

fn contents(max_tokens: u64) -> String {
    json!({
        "contents": [{ "role": "user", "parts": [{ "text": "x".repeat(400) }] }],
        "generationConfig": { "maxOutputTokens": max_tokens },
    })
    .to_string()
}

async fn gemini() -> MockHandle {
    MockBuilder::new(ApiFamily::Gemini).spawn().await.expect("mock starts")
}

#[tokio::test]
async fn an_answer_carries_its_usage_metadata_and_finish_reason() {
    let mock = gemini().await;
    let answer = send(&mock, GENERATE, &AUTH, &contents(5)).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model");
    assert!(candidate["content"]["parts"][0]["text"].as_str().unwrap().starts_with("chaos"));
    assert_eq!(candidate["finishReason"], "MAX_TOKENS");
    let usage = &body["usageMetadata"];
    assert_eq!(usage["candidatesTokenCount"], 5);
    assert_eq!(usage["totalTokenCount"], usage["promptTokenCount"].as_u64().unwrap() + 5);
    assert_eq!(body["modelVersion"], "gemini-2.0-flash");
}

#[tokio::test]
async fn a_stream_is_data_events_the_last_carrying_the_finish_and_whole_usage() {
    let mock = gemini().await;
    let events = send(&mock, STREAM, &AUTH, &contents(3)).await.events();
    assert!(events.iter().all(|(name, _)| name.is_none()), "data: frames only");
    let chunks: Vec<Value> =
        events.iter().map(|(_, data)| serde_json::from_str(data).expect("JSON")).collect();
    assert_eq!(chunks.len(), 4, "three tokens, then the finish");
    for chunk in &chunks[..3] {
        assert!(chunk["candidates"][0].get("finishReason").is_none());
        assert!(chunk["usageMetadata"]["promptTokenCount"].is_u64());
        assert!(chunk["usageMetadata"].get("candidatesTokenCount").is_none());
    }
    assert_eq!(chunks[3]["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(chunks[3]["usageMetadata"]["candidatesTokenCount"], 3);
}

#[tokio::test]
async fn keys_come_in_the_header_or_the_query_and_errors_in_google_s_shape() {
    let mock =
        MockBuilder::new(ApiFamily::Gemini).keys(vec!["AIza-right".into()]).spawn().await.expect("mock");
    let by_query = format!("{GENERATE}?key=AIza-right");
    assert_eq!(send(&mock, &by_query, &[], &contents(2)).await.status, 200);
    assert_eq!(send(&mock, GENERATE, &[("x-goog-api-key", "AIza-right")], &contents(2)).await.status, 200);
    let wrong = send(&mock, GENERATE, &[("x-goog-api-key", "AIza-wrong")], &contents(2)).await;
    assert_eq!((wrong.status, wrong.json()["error"]["status"].clone()), (400, json!("INVALID_ARGUMENT")));
    let none = send(&mock, GENERATE, &[], &contents(2)).await;
    assert_eq!((none.status, none.json()["error"]["status"].clone()), (403, json!("PERMISSION_DENIED")));
    let empty = send(&mock, GENERATE, &[("x-goog-api-key", "AIza-right")], r#"{"contents":[]}"#).await;
    assert_eq!(empty.status, 400);
    let other =
        send(&mock, "/v1beta/models/gemini-2.0-flash:countTokens", &[("x-goog-api-key", "AIza-right")], "{}")
            .await;
    assert_eq!((other.status, other.json()["error"]["status"].clone()), (404, json!("NOT_FOUND")));
}

#[tokio::test]
async fn an_exhausted_limit_answers_resource_exhausted_with_the_wait_in_the_body() {
    let mock = MockBuilder::new(ApiFamily::Gemini)
        .limits(RateLimits::per_minute(Some(1), None))
        .spawn()
        .await
        .expect("mock");
    assert_eq!(send(&mock, GENERATE, &AUTH, &contents(2)).await.status, 200);
    let limited = send(&mock, GENERATE, &AUTH, &contents(2)).await;
    assert_eq!(limited.status, 429);
    let body = limited.json();
    assert_eq!(
        (body["error"]["code"].clone(), body["error"]["status"].clone()),
        (json!(429), json!("RESOURCE_EXHAUSTED"))
    );
    assert_eq!(body["error"]["details"][0]["retryDelay"], "60s");
}

/// A Gemini stream as a fixed byte string, so the interposer's copy can be compared byte for byte.
const EVENTS: &[u8] = b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"hi\"}],\"role\": \"model\"}}],\"usageMetadata\": {\"promptTokenCount\": 9}}\r\n\r\ndata: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}]},\"finishReason\": \"STOP\"}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 1}}\r\n\r\n";

#[tokio::test]
async fn the_interposer_reads_model_and_stream_from_the_path_and_passes_the_rest_byte_identical() {
    let (upstream, interposer, recorder) =
        answering_behind_an_interposer(ApiFamily::Gemini, EVENTS, "gemini-2.5-pro").await;

    let passed = send_to(interposer.addr, STREAM, &AUTH, &contents(4)).await;
    assert_eq!((passed.status, passed.body()), (200, EVENTS.to_vec()));
    let hit = "/v1beta/models/gemini-2.5-pro:generateContent";
    let limited = send_to(interposer.addr, hit, &AUTH, &contents(4)).await;
    assert_eq!(
        (limited.status, limited.json()["error"]["status"].clone()),
        (429, json!("RESOURCE_EXHAUSTED"))
    );

    let seen = upstream.received_requests().await.expect("recording on");
    assert_eq!(seen.len(), 1, "the matched request never reached the upstream");
    assert_eq!(seen[0].url.query(), Some("alt=sse"));
    assert_eq!(seen[0].body, contents(4).into_bytes());
    let attempts = crate::support::settled_attempts(&recorder, 2).await;
    let streamed =
        attempts.iter().find(|a| a.model.as_deref() == Some("gemini-2.0-flash")).expect("recorded");
    let usage = streamed.usage.expect("billed from the stream's usageMetadata");
    assert_eq!((usage.input, usage.output), (9, 1));
}

#[test]
fn a_gemini_load_is_billed_cut_by_its_missing_finish_and_retried_on_a_503() {
    // Google sends no `retry-after`: the client's own backoff spaces the retry.
    let results = run_calm_cut_and_retried("gemini", "gemini-2.0-flash", (0.10, 0.40), "status: 503");
    let retried = phase(&results, "retried")["latency_ms"]["p50"].as_f64().expect("latency");
    assert!(retried >= 250.0, "{retried}: the backoff, at least half its 500 ms base");
}
