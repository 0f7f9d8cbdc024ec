//! The `rate_limit` fault answers 429 exactly as a mock with the same limits does: same status,
//! same headers, same body (apart from request ids and reset instants).

use bytes::Bytes;
use chaos::{
    fault::{Chain, FaultAction, FaultRule, RateLimitFault},
    metrics::Recorder,
    mock::{MockBuilder, MockHandle, RateLimits},
    wire::ApiFamily,
};
use http_body_util::{BodyExt, Full};

const LIMITS: RateLimits = RateLimits { rpm: Some(2), tpm: None, minute: chaos::ratelimit::MINUTE };

/// The third request's answer: status, sorted header names, body without its request id.
async fn third_answer(addr: std::net::SocketAddr) -> (u16, Vec<String>, serde_json::Value) {
    let client = chaos::net::http_client::<Full<Bytes>>();
    let mut last = None;
    for _ in 0..3 {
        let request = http::Request::post(format!("http://{addr}/v1/chat/completions"))
            .header("authorization", "Bearer sk-one")
            .body(Full::new(Bytes::from_static(
                br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#,
            )))
            .expect("request");
        last = Some(client.request(request).await.expect("response"));
    }
    let (parts, body) = last.expect("three answers").into_parts();
    let mut names: Vec<String> =
        parts.headers.keys().map(|k| k.to_string()).filter(|k| k != "date").collect();
    names.sort();
    let mut body: serde_json::Value =
        serde_json::from_slice(&body.collect().await.expect("body").to_bytes()).expect("JSON");
    // The wait depends on when the request came; everything else must match.
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    let masked = match message.split_once("try again in ") {
        Some((before, after)) => {
            format!("{before}try again in …{}", after.split_once("s.").map_or("", |(_, rest)| rest))
        }
        None => message,
    };
    body["error"]["message"] = masked.into();
    (parts.status.as_u16(), names, body)
}

async fn plain_mock() -> MockHandle {
    MockBuilder::new(ApiFamily::OpenAi).keys(vec!["sk-one".into()]).spawn().await.expect("mock starts")
}

#[tokio::test]
async fn the_fault_and_the_mocks_limiter_answer_alike() {
    let limited_mock = MockBuilder::new(ApiFamily::OpenAi)
        .keys(vec!["sk-one".into()])
        .limits(LIMITS)
        .spawn()
        .await
        .expect("mock");
    let from_mock = third_answer(limited_mock.addr).await;

    let upstream = plain_mock().await;
    let upstream_uri = format!("http://{}", upstream.addr);
    let interposer = crate::support::interposer(&upstream_uri, vec!["sk-one".into()], &Recorder::new()).await;
    let fault = FaultAction::RateLimit(RateLimitFault::new(LIMITS, ApiFamily::OpenAi));
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(fault, 1.0)], 1));
    let from_fault = third_answer(interposer.addr).await;

    assert_eq!(from_mock.0, 429);
    assert_eq!(from_fault.0, 429);
    assert_eq!(from_fault.1, from_mock.1, "same headers");
    assert_eq!(from_fault.2, from_mock.2, "same body");
    assert_eq!(upstream.counters().requests(), 2, "the limited request never reached the upstream");
}
