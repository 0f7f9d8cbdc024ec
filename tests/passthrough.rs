//! The interposer with no fault firing passes requests and responses through byte-identical
//! (bodies, `Host`, auth); with a fault it answers as the provider would.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chaos::{
    fault::{Chain, FaultAction, FaultRule, LatencyFault, Matcher, StatusFault},
    metrics::{AttemptOutcome, Recorder},
    proxy::InterposerHandle,
    wire::ApiFamily,
};
use http_body_util::{BodyExt, Full};

use crate::support::settled_attempts;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

/// Every byte value, then a megabyte of pseudo-random bytes: no encoding survives by luck.
fn awkward_bytes(seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    let mut state = u32::from(seed) | 1;
    bytes.extend((0..1 << 20).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    }));
    bytes
}

async fn interposer(upstream: &MockServer, recorder: &Recorder) -> InterposerHandle {
    crate::support::interposer(&upstream.uri(), Vec::new(), recorder).await
}

async fn post(interposer: &InterposerHandle, body: Vec<u8>) -> http::Response<Bytes> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{}/v1/raw?x=1", interposer.addr))
        .header("host", "api.example.test")
        .header("authorization", "Bearer sk-test-secret")
        .header("content-type", "application/octet-stream")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = client.request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    http::Response::from_parts(parts, body.collect().await.expect("body").to_bytes())
}

#[tokio::test]
async fn bodies_and_headers_pass_through_byte_identical() {
    let upstream = MockServer::start().await;
    let response_body = awkward_bytes(7);
    Mock::given(method("POST"))
        .and(path("/v1/raw"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(response_body.clone())
                .insert_header("x-upstream", "yes"),
        )
        .mount(&upstream)
        .await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;

    let request_body = awkward_bytes(3);
    let response = post(&interposer, request_body.clone()).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-upstream"], "yes");
    assert!(response.body()[..] == response_body[..], "response body changed in transit");
    let seen = upstream.received_requests().await.expect("recording on");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].body == request_body, "request body changed in transit");
    assert_eq!(seen[0].url.query(), Some("x=1"));
    assert_eq!(seen[0].headers["host"], "api.example.test");
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-test-secret");

    let attempts = settled_attempts(&recorder, 1).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Status(200));
    assert!(!attempts[0].injected);
    let answer = attempts[0].answer;
    assert_eq!(answer.bytes, response_body.len() as u64, "every byte counted");
    assert_eq!(answer.completed, Some(true));
    assert!(answer.ttfb.is_some() && answer.first_byte.is_some() && answer.duration >= answer.ttfb);
}

#[tokio::test]
async fn a_status_fault_answers_like_openai_and_never_reaches_the_upstream() {
    let upstream = MockServer::start().await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;
    let fault = StatusFault {
        status: 429,
        family: ApiFamily::OpenAi,
        retry_after: Some(chaos::fault::DelayDistribution::Fixed(Duration::from_secs(60))),
        quota: false,
        should_retry: None,
    };
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(FaultAction::Status(fault), 1.0)], 1));

    let response = post(&interposer, b"{}".to_vec()).await;

    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "60");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(response.body()).expect("JSON error body");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(upstream.received_requests().await.expect("recording on").is_empty());
    let attempts = settled_attempts(&recorder, 1).await;
    assert!(attempts[0].injected);
    assert_eq!(attempts[0].faults, ["status:429"]);
}

#[tokio::test]
async fn a_latency_fault_delays_the_response_head() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&upstream).await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;
    let delay = Duration::from_millis(300);
    let rule = FaultRule::new(FaultAction::Latency(LatencyFault::fixed(delay)), 1.0);
    interposer.set_chain(0, Chain::new(vec![rule], 1));

    let started = Instant::now();
    let response = post(&interposer, b"{}".to_vec()).await;

    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= delay, "answered after {:?}", started.elapsed());
    assert_eq!(upstream.received_requests().await.expect("recording on").len(), 1);
}

#[tokio::test]
async fn a_fault_matching_on_the_model_reads_the_body_and_still_forwards_it_byte_identical() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&upstream).await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;
    let fault = StatusFault {
        status: 503,
        family: ApiFamily::OpenAi,
        retry_after: None,
        quota: false,
        should_retry: None,
    };
    let rule = FaultRule {
        matcher: Matcher { model: Some("gpt-4o".into()), ..Matcher::default() },
        ..FaultRule::new(FaultAction::Status(fault), 1.0)
    };
    interposer.set_chain(0, Chain::new(vec![rule], 1));

    // Odd spacing and key order: the body must arrive exactly as sent, not re-serialized.
    let spared = b"{ \"messages\" : [],\n  \"model\":\"gpt-4o-mini\" , \"x\": \"\\u00e9\" }".to_vec();
    assert_eq!(post(&interposer, spared.clone()).await.status(), 200);
    let hit = br#"{"model":"gpt-4o","messages":[]}"#.to_vec();
    assert_eq!(post(&interposer, hit).await.status(), 503);

    let seen = upstream.received_requests().await.expect("recording on");
    assert_eq!(seen.len(), 1, "the matched request never reached the upstream");
    assert_eq!(seen[0].body, spared);
}

#[tokio::test]
async fn bandwidth_slows_the_answer_and_keeps_every_byte() {
    let upstream = MockServer::start().await;
    let answer = awkward_bytes(9)[..20_000].to_vec();
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(answer.clone()))
        .mount(&upstream)
        .await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;
    let fault = chaos::fault::BandwidthFault { bytes_per_second: 100_000 };
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(FaultAction::Bandwidth(fault), 1.0)], 1));

    let started = Instant::now();
    let response = post(&interposer, b"{}".to_vec()).await;
    let took = started.elapsed();

    assert!(response.body()[..] == answer[..], "bytes changed in transit");
    // 20 kB at 100 kB/s: 200 ms at least (the first slice goes at once, then a tenth of a
    // second's worth every 10 ms).
    assert!(took >= Duration::from_millis(190), "took {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn without_the_header_the_correlation_tag_is_read_from_the_body_which_still_passes_intact() {
    let upstream = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&upstream).await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, &recorder).await;
    // What a gateway that drops unknown headers forwards: the body's `user` survives.
    let body =
        br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"user":"chaos-42"}"#.to_vec();
    assert_eq!(post(&interposer, body.clone()).await.status(), 200);
    let attempts = settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].logical_id, Some(42));
    assert!(upstream.received_requests().await.expect("recording on")[0].body == body);
}
