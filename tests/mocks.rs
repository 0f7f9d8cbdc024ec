//! The mock providers over real sockets: response shapes, stream order and token accounting
//! for both dialects, the providers' error bodies, rate limits and overload, stream pacing,
//! and `chaos mock` serving a stream as a standalone process.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chaos::{
    mock::{LatencyModel, MockBuilder, MockHandle, RateLimits},
    wire::ApiFamily,
};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

/// A response: status, headers, and each body frame with its arrival time since the send.
pub(crate) struct Received {
    pub(crate) status: u16,
    headers: http::HeaderMap,
    pub(crate) frames: Vec<(Duration, Bytes)>,
}

impl Received {
    pub(crate) fn body(&self) -> Vec<u8> {
        self.frames.iter().flat_map(|(_, b)| b.to_vec()).collect()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body()).expect("a JSON body")
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("no `{name}` header"))
    }

    /// SSE events as (event name if any, data).
    pub(crate) fn events(&self) -> Vec<(Option<String>, String)> {
        String::from_utf8(self.body())
            .expect("UTF-8 stream")
            .split("\n\n")
            .filter(|event| !event.trim().is_empty())
            .map(|event| {
                let mut name = None;
                let mut data = String::new();
                for line in event.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        name = Some(value.to_owned());
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    } else {
                        panic!("unexpected SSE line `{line}`");
                    }
                }
                (name, data)
            })
            .collect()
    }
}

pub(crate) async fn send(mock: &MockHandle, path: &str, headers: &[(&str, &str)], body: &str) -> Received {
    send_to(mock.addr, path, headers, body).await
}

/// [`send`] to any address (an interposer in front of a mock).
pub(crate) async fn send_to(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Received {
    let client = chaos::net::http_client::<Full<Bytes>>();
    let mut request = http::Request::post(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let started = Instant::now();
    let response = client
        .request(request.body(Full::new(Bytes::from(body.to_owned()))).expect("request"))
        .await
        .expect("response");
    let (parts, mut body) = response.into_parts();
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("frame").into_data() {
            frames.push((started.elapsed(), data));
        }
    }
    Received { status: parts.status.as_u16(), headers: parts.headers, frames }
}

pub(crate) const OPENAI_AUTH: (&str, &str) = ("authorization", "Bearer sk-test");
pub(crate) const ANTHROPIC_AUTH: [(&str, &str); 2] =
    [("x-api-key", "sk-ant-test"), ("anthropic-version", "2023-06-01")];

pub(crate) fn chat(extra: Value) -> String {
    let mut body =
        json!({ "model": "gpt-4o-mini", "messages": [{ "role": "user", "content": "x".repeat(400) }] });
    body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    body.to_string()
}

pub(crate) fn message(extra: Value) -> String {
    let mut body = json!({ "model": "claude-3-5-haiku-latest", "max_tokens": 7, "messages": [{ "role": "user", "content": "x".repeat(400) }] });
    body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    body.to_string()
}

async fn openai() -> MockHandle {
    MockBuilder::new(ApiFamily::OpenAi).models(vec!["gpt-4o-mini".into()]).spawn().await.expect("mock starts")
}

async fn anthropic() -> MockHandle {
    MockBuilder::new(ApiFamily::Anthropic).spawn().await.expect("mock starts")
}

#[tokio::test]
async fn openai_completion_has_the_full_shape_and_consistent_usage() {
    let mock = openai().await;
    let response =
        send(&mock, "/v1/chat/completions", &[OPENAI_AUTH], &chat(json!({ "max_completion_tokens": 5 })))
            .await;
    assert_eq!(response.status, 200);
    assert!(response.header("x-request-id").starts_with("req_"));
    assert_eq!(response.header("openai-version"), "2020-10-01");
    assert_eq!(response.header("x-ratelimit-remaining-requests"), "9999");
    let body = response.json();
    assert!(body["id"].as_str().expect("id").starts_with("chatcmpl-"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    let text = body["choices"][0]["message"]["content"].as_str().expect("content");
    assert_eq!(text.split_whitespace().count(), 5);
    let usage = &body["usage"];
    assert_eq!(usage["completion_tokens"], 5);
    assert_eq!(usage["prompt_tokens"], 100 + 4 + 3);
    assert_eq!(usage["total_tokens"], 112);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    // Fields in the order the real API writes them.
    let keys: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(&keys[..4], ["id", "object", "created", "model"]);
}

#[tokio::test]
async fn openai_stream_is_role_content_finish_usage_done() {
    let mock = openai().await;
    let body = chat(json!({ "max_tokens": 4, "stream": true, "stream_options": { "include_usage": true } }));
    let response = send(&mock, "/v1/chat/completions", &[OPENAI_AUTH], &body).await;
    assert_eq!(response.status, 200);
    assert!(response.header("content-type").starts_with("text/event-stream"));
    let events = response.events();
    assert!(events.iter().all(|(name, _)| name.is_none()), "OpenAI streams have no event names");
    let (last, chunks) = events.split_last().expect("events");
    assert_eq!(last.1, "[DONE]");
    let chunks: Vec<Value> =
        chunks.iter().map(|(_, data)| serde_json::from_str(data).expect("JSON chunk")).collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"]));
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({ "role": "assistant", "content": "", "refusal": null })
    );
    let contents: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(contents.len(), 4);
    let finishes: Vec<&Value> =
        chunks.iter().map(|c| &c["choices"][0]["finish_reason"]).filter(|f| !f.is_null()).collect();
    assert_eq!(finishes, [&json!("length")]);
    let usage_chunk = chunks.last().expect("usage chunk");
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 4);
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c["usage"].is_null() && c.get("usage").is_some()));
}

#[tokio::test]
async fn openai_stream_without_include_usage_has_no_usage_field() {
    let mock = openai().await;
    let response = send(
        &mock,
        "/v1/chat/completions",
        &[OPENAI_AUTH],
        &chat(json!({ "max_tokens": 2, "stream": true })),
    )
    .await;
    let events = response.events();
    assert_eq!(events.last().expect("events").1, "[DONE]");
    for (_, data) in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(data).expect("JSON chunk");
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert_eq!(chunk["choices"].as_array().expect("choices").len(), 1);
    }
}

#[tokio::test]
async fn anthropic_stream_sends_the_named_events_in_order_with_cumulative_usage() {
    let mock = anthropic().await;
    let response = send(&mock, "/v1/messages", &ANTHROPIC_AUTH, &message(json!({ "stream": true }))).await;
    assert_eq!(response.status, 200);
    assert!(response.header("request-id").starts_with("req_"));
    let events = response.events();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_deref().expect("named event")).collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(["content_block_delta"; 7]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let data: Vec<Value> = events.iter().map(|(_, d)| serde_json::from_str(d).expect("JSON data")).collect();
    for ((name, _), value) in events.iter().zip(&data) {
        assert_eq!(value["type"], name.as_deref().expect("name"), "data.type matches the event name");
    }
    let streamed: String = data.iter().filter_map(|d| d["delta"]["text"].as_str()).collect();
    assert_eq!(streamed.split_whitespace().count(), 7);
    assert_eq!(data[0]["message"]["usage"]["output_tokens"], 1);
    let delta = &data[data.len() - 2];
    assert_eq!(delta["usage"]["output_tokens"], 7);
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");

    let whole = send(&mock, "/v1/messages", &ANTHROPIC_AUTH, &message(json!({}))).await.json();
    assert_eq!(whole["type"], "message");
    assert_eq!(whole["content"][0]["text"], streamed);
    assert_eq!(whole["usage"]["input_tokens"], data[0]["message"]["usage"]["input_tokens"]);
    assert_eq!(whole["usage"]["output_tokens"], 7);
}

#[tokio::test]
async fn bad_requests_get_each_providers_own_400() {
    let mock = anthropic().await;
    let no_max = send(&mock, "/v1/messages", &ANTHROPIC_AUTH, r#"{"model":"m","messages":[]}"#).await;
    assert_eq!(no_max.status, 400);
    let body = no_max.json();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["message"], "max_tokens: Field required");
    let no_version = send(&mock, "/v1/messages", &ANTHROPIC_AUTH[..1], &message(json!({}))).await;
    assert_eq!(no_version.status, 400);
    assert_eq!(send(&mock, "/v1/messages", &ANTHROPIC_AUTH, "{oops").await.status, 400);

    let mock = openai().await;
    let no_model = send(
        &mock,
        "/v1/chat/completions",
        &[OPENAI_AUTH],
        r#"{"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(no_model.status, 400);
    assert_eq!(no_model.json()["error"]["type"], "invalid_request_error");
    let malformed = send(&mock, "/v1/chat/completions", &[OPENAI_AUTH], "{oops").await;
    assert!(malformed.json()["error"]["message"].as_str().expect("message").contains("parse the JSON"));
    let huge =
        send(&mock, "/v1/chat/completions", &[OPENAI_AUTH], &chat(json!({ "max_tokens": 4_000_000_000u64 })))
            .await;
    assert_eq!(huge.status, 400);
    assert_eq!(huge.json()["error"]["code"], "invalid_value");
    let unknown = send(&mock, "/v1/images/generations", &[OPENAI_AUTH], "{}").await;
    assert_eq!(unknown.status, 404);
    let no_input =
        send(&mock, "/v1/embeddings", &[OPENAI_AUTH], r#"{"model":"text-embedding-3-small"}"#).await;
    assert_eq!((no_input.status, no_input.json()["error"]["param"].as_str()), (400, Some("input")));
}

#[tokio::test]
async fn wrong_or_missing_keys_get_401_and_counts_name_keys_by_index() {
    let keys = vec!["sk-one".to_owned(), "sk-two".to_owned()];
    let mock = MockBuilder::new(ApiFamily::OpenAi).keys(keys).spawn().await.expect("mock starts");
    let wrong =
        send(&mock, "/v1/chat/completions", &[("authorization", "Bearer sk-nope")], &chat(json!({}))).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"]["code"], "invalid_api_key");
    assert!(!String::from_utf8_lossy(&wrong.body()).contains("sk-nope"));
    let missing = send(&mock, "/v1/chat/completions", &[], &chat(json!({}))).await;
    assert_eq!(missing.status, 401);
    let good =
        send(&mock, "/v1/chat/completions", &[("authorization", "Bearer sk-two")], &chat(json!({}))).await;
    assert_eq!(good.status, 200);

    let counts = mock.counters().snapshot();
    assert_eq!(counts[&("unauthenticated".to_owned(), "-".to_owned())].statuses[&401], 2);
    assert_eq!(counts[&("key-1".to_owned(), "gpt-4o-mini".to_owned())].requests, 1);
    let json = send(&mock, chaos::mock::COUNTS_PATH, &[], "").await;
    assert!(!String::from_utf8_lossy(&json.body()).contains("sk-two"), "counts never show key values");

    let anthropic =
        MockBuilder::new(ApiFamily::Anthropic).keys(vec!["sk-ant".into()]).spawn().await.expect("mock");
    let denied = send(&anthropic, "/v1/messages", &ANTHROPIC_AUTH, &message(json!({}))).await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn exhausted_limits_answer_429_with_retry_after_per_key() {
    let limits = RateLimits::per_minute(Some(2), None);
    let keys = vec!["sk-a".to_owned(), "sk-b".to_owned()];
    let mock =
        MockBuilder::new(ApiFamily::OpenAi).keys(keys).limits(limits).spawn().await.expect("mock starts");
    let as_key = |key: &'static str| [("authorization", key)];
    for _ in 0..2 {
        assert_eq!(
            send(&mock, "/v1/chat/completions", &as_key("Bearer sk-a"), &chat(json!({}))).await.status,
            200
        );
    }
    let limited = send(&mock, "/v1/chat/completions", &as_key("Bearer sk-a"), &chat(json!({}))).await;
    assert_eq!(limited.status, 429);
    // Two requests a minute: the next fits in 30 s.
    assert_eq!(limited.header("retry-after"), "30");
    assert_eq!(limited.header("x-ratelimit-limit-requests"), "2");
    assert_eq!(limited.header("x-ratelimit-remaining-requests"), "0");
    let body = limited.json();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(body["error"]["message"]
        .as_str()
        .expect("message")
        .contains("requests per min (RPM): Limit 2, Used 2, Requested 1"));
    // Another key has its own bucket.
    assert_eq!(
        send(&mock, "/v1/chat/completions", &as_key("Bearer sk-b"), &chat(json!({}))).await.status,
        200
    );
}

#[tokio::test]
async fn an_overloaded_anthropic_mock_answers_529() {
    let mock = MockBuilder::new(ApiFamily::Anthropic).overload(1.0).spawn().await.expect("mock starts");
    let response = send(&mock, "/v1/messages", &ANTHROPIC_AUTH, &message(json!({}))).await;
    assert_eq!(response.status, 529);
    assert_eq!(response.header("x-should-retry"), "true");
    assert_eq!(response.json()["error"]["type"], "overloaded_error");
    assert_eq!(mock.counters().with_status(529), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_paced_by_ttft_and_tokens_per_second() {
    let latency = LatencyModel { ttft: Duration::from_millis(200), tokens_per_second: 50.0, jitter: 0.0 };
    let mock = MockBuilder::new(ApiFamily::OpenAi).latency(latency).spawn().await.expect("mock starts");
    let response = send(
        &mock,
        "/v1/chat/completions",
        &[OPENAI_AUTH],
        &chat(json!({ "max_tokens": 10, "stream": true })),
    )
    .await;
    let content_times: Vec<Duration> = response
        .frames
        .iter()
        .filter(|(_, data)| {
            String::from_utf8_lossy(data).contains("\"content\":\"")
                && !String::from_utf8_lossy(data).contains("\"content\":\"\"")
        })
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(content_times.len(), 10);
    let first = content_times[0].as_millis();
    let last = content_times[9].as_millis();
    assert!((195..300).contains(&first), "first token at {first} ms, want ~200");
    // Nine gaps of 20 ms after the first token.
    let span = last - first;
    assert!((170..260).contains(&span), "tokens spread over {span} ms, want ~180");
}

#[tokio::test]
async fn chaos_mock_serves_a_streaming_completion_as_a_process() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["mock", "--openai", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("chaos mock starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("a line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address")
        .to_owned();

    let client = chaos::net::http_client::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{addr}/v1/chat/completions"))
        .header("authorization", "Bearer sk-anything")
        .body(Full::new(Bytes::from(chat(json!({ "max_tokens": 3, "stream": true })))))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("data: {"), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
}

/// The head of one HTTP/1.1 answer to a chat completion, read off a plain socket, lower-cased.
fn raw_head(authority: &str, body: &str) -> String {
    let headers = [("authorization", "Bearer sk-x"), ("content-type", "application/json")];
    let (head, rest) = crate::support::exchange(authority, "POST", "/v1/chat/completions", &headers, body);
    let head = head.to_ascii_lowercase();
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length: ")).map(|n| n.trim().parse::<usize>());
    if let Some(length) = length {
        assert_eq!(length.expect("a number"), rest.len(), "content-length is the body's length");
    }
    head
}

/// A whole (non-streamed) answer goes out with its length, directly and through an interposer:
/// one write, where chunked framing took a second for the last chunk (and a second wake-up for
/// the reader); a stream stays chunked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_answer_has_a_content_length_and_a_stream_is_chunked() {
    let mock = openai().await;
    let recorder = chaos::metrics::Recorder::new();
    let interposer = crate::support::interposer(&format!("http://{}", mock.addr), vec![], &recorder).await;
    let whole = chat(json!({}));
    let streamed = chat(json!({ "stream": true }));
    for authority in [mock.addr.to_string(), interposer.addr.to_string()] {
        let (whole, streamed) = (whole.clone(), streamed.clone());
        let (whole_head, stream_head) = tokio::task::spawn_blocking({
            let authority = authority.clone();
            move || (raw_head(&authority, &whole), raw_head(&authority, &streamed))
        })
        .await
        .expect("exchanges");
        assert!(whole_head.contains("content-length: "), "{authority}: {whole_head}");
        assert!(!whole_head.contains("transfer-encoding"), "{authority}: {whole_head}");
        assert!(stream_head.contains("transfer-encoding: chunked"), "{authority}: {stream_head}");
    }
}

/// A request whose chunked body is malformed gets the provider's 400, not a 413 (the body was
/// not too large; it could not be read).
#[tokio::test]
async fn a_malformed_chunked_body_gets_a_400_in_the_family_s_shape() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = openai().await;
    let mut stream = tokio::net::TcpStream::connect(mock.addr).await.expect("connect");
    let request = "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-x\r\n\
                   content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("\"type\":\"invalid_request_error\""), "{answer}");
}
