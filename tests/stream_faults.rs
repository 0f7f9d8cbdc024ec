//! Stream faults through the interposer, over real sockets, in front of the OpenAI mock.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chaos::{
    fault::{
        Chain, CutFault, DelayDistribution, EventScope, FaultAction, FaultRule, SlowCloseFault, StallFault,
        TrickleFault,
    },
    metrics::Recorder,
    mock::{MockBuilder, MockHandle},
    proxy::InterposerHandle,
    wire::ApiFamily,
};
use http_body_util::{BodyExt, Full};

async fn interposed(fault: FaultAction) -> (MockHandle, InterposerHandle, Recorder) {
    let mock = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let recorder = Recorder::new();
    let interposer =
        crate::support::interposer(&format!("http://{}", mock.addr), Vec::new(), &recorder).await;
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(fault, 1.0)], 1));
    (mock, interposer, recorder)
}

async fn chat(interposer: &InterposerHandle, stream: bool) -> String {
    let body = format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"max_tokens":6,"stream":{stream}}}"#
    );
    let request = http::Request::post(format!("http://{}/v1/chat/completions", interposer.addr))
        .header("authorization", "Bearer sk-test")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = chaos::net::http_client::<Full<Bytes>>().request(request).await.expect("response");
    String::from_utf8(response.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("UTF-8")
}

#[tokio::test]
async fn a_cut_stream_ends_cleanly_without_done_and_the_attempt_says_so() {
    let (_mock, interposer, recorder) =
        interposed(FaultAction::Cut(CutFault { after_events: 3, scope: EventScope::Events })).await;
    let body = chat(&interposer, true).await;
    let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 3, "{body}");
    assert!(!body.contains("[DONE]"));
    assert!(body.contains("\"content\":\"chaos\""), "the first tokens got through: {body}");
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].faults, ["cut"]);
    assert!(!attempts[0].injected, "the upstream answered; the fault only shortened it");
    assert_eq!(attempts[0].answer.completed, Some(false), "the stream never reached [DONE]");
    assert_eq!(attempts[0].answer.bytes, body.len() as u64);
}

#[tokio::test]
async fn a_stream_fault_leaves_a_json_answer_untouched() {
    let (_mock, interposer, _) =
        interposed(FaultAction::Cut(CutFault { after_events: 0, scope: EventScope::Events })).await;
    let body = chat(&interposer, false).await;
    let json: serde_json::Value = serde_json::from_str(&body).expect("a whole JSON answer");
    assert_eq!(json["usage"]["completion_tokens"], 6);
}

#[tokio::test]
async fn a_stall_holds_the_stream_then_lets_it_finish() {
    let stall =
        StallFault { after_events: 2, duration: Some(Duration::from_millis(400)), scope: EventScope::Events };
    let (_mock, interposer, recorder) = interposed(FaultAction::Stall(stall)).await;
    let started = Instant::now();
    let body = chat(&interposer, true).await;
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].answer.completed, Some(true), "a stalled stream that finishes is complete");
    assert!(attempts[0].answer.duration.expect("ended") >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_slow_close_ends_a_complete_stream_late_and_the_attempt_lasts_as_long() {
    let hold = Duration::from_millis(600);
    let (_mock, interposer, recorder) = interposed(FaultAction::SlowClose(SlowCloseFault { hold })).await;
    let started = Instant::now();
    let body = chat(&interposer, true).await;
    assert!(started.elapsed() >= hold, "the body ended after {:?}", started.elapsed());
    assert!(body.ends_with("data: [DONE]\n\n"), "every event arrived: {body}");
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].faults, ["slow_close"]);
    assert_eq!(attempts[0].answer.completed, Some(true), "the stream reached [DONE]");
    assert!(attempts[0].answer.duration.expect("ended") >= hold);
}

#[tokio::test]
async fn a_drawn_trickle_spaces_events_by_varying_gaps_within_its_bounds() {
    let (min, max) = (Duration::from_millis(20), Duration::from_millis(80));
    let trickle = TrickleFault { gap: DelayDistribution::Uniform { min, max }, seed: 0 };
    let (_mock, interposer, _) = interposed(FaultAction::Trickle(trickle)).await;
    let request = http::Request::post(format!("http://{}/v1/chat/completions", interposer.addr))
        .header("authorization", "Bearer sk-test")
        .body(Full::new(Bytes::from(
            r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":12,"stream":true}"#,
        )))
        .expect("request");
    let response = chaos::net::http_client::<Full<Bytes>>().request(request).await.expect("response");
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    while let Some(frame) = body.frame().await {
        if frame.expect("frame").data_ref().is_some_and(|data| !data.is_empty()) {
            arrivals.push(Instant::now());
        }
    }
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 12, "{} events", arrivals.len());
    // Loopback adds a little; a gap never comes early.
    assert!(
        gaps.iter().all(|g| *g >= min - Duration::from_millis(2) && *g < max + Duration::from_millis(40)),
        "{gaps:?}"
    );
    let (shortest, longest) = (gaps.iter().min().expect("gaps"), gaps.iter().max().expect("gaps"));
    assert!(*longest - *shortest > Duration::from_millis(15), "the gaps are drawn, not fixed: {gaps:?}");
}

/// Regression (review of issue 4): an SSE answer framed by `content-length` broke when a stream
/// fault changed its length (the client saw an incomplete message, or a truncated event).
#[tokio::test]
async fn a_stream_fault_reframes_an_answer_that_had_a_content_length() {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n";
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(stream, "text/event-stream"))
        .mount(&upstream)
        .await;
    let recorder = Recorder::new();
    let interposer = crate::support::interposer(&upstream.uri(), Vec::new(), &recorder).await;
    let malformed = FaultAction::Inject(chaos::fault::InjectFault {
        what: chaos::fault::Injected::Malformed,
        after_events: 1,
        scope: EventScope::Events,
        family: ApiFamily::OpenAi,
    });
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(malformed, 1.0)], 1));
    let body = chat(&interposer, true).await;
    assert!(
        body.ends_with("data: [DONE]\n\n"),
        "the whole stream arrived, longer than its old length: {body:?}"
    );
    assert!(body.len() > stream.len());
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].faults, ["inject:malformed"]);
}

#[tokio::test]
async fn a_stream_fault_on_a_json_answer_is_not_recorded_as_applied() {
    let (_mock, interposer, recorder) =
        interposed(FaultAction::Cut(CutFault { after_events: 0, scope: EventScope::Events })).await;
    chat(&interposer, false).await;
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert!(attempts[0].faults.is_empty(), "{:?}", attempts[0].faults);
}
