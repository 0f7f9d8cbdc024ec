//! HTTP/2 from clients (h2c, prior knowledge) through the interposer, over real sockets, in
//! front of the OpenAI mock spoken to in HTTP/1.1: answers and streams pass as they do over
//! HTTP/1.1, and a `reset` fault on one request resets only its own stream — another request
//! multiplexed on the same connection finishes, and one beside a slow stream does not wait for it.

use std::time::Duration;

use bytes::Bytes;
use chaos::{fault::Chain, metrics::Recorder, mock::MockBuilder, scenario::parse_fault, wire::ApiFamily};
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

const STREAM: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":6,"stream":true}"#;

fn request(addr: std::net::SocketAddr, fault: Option<&str>) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::post(format!("http://{addr}/v1/chat/completions"))
        .header("authorization", "Bearer sk-test")
        .header("content-type", "application/json");
    if let Some(fault) = fault {
        request = request.header("x-test-fault", fault);
    }
    request.body(Full::new(Bytes::from(STREAM))).expect("request")
}

#[tokio::test]
async fn an_h2c_client_streams_through_and_a_reset_takes_down_only_its_own_stream() {
    let mock = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let recorder = Recorder::new();
    let interposer =
        crate::support::interposer(&format!("http://{}", mock.addr), Vec::new(), &recorder).await;
    let rules = [
        "{ reset: true, match: { header: { x-test-fault: reset } } }",
        "{ trickle: 100ms, match: { header: { x-test-fault: slow } } }",
    ]
    .map(|text| parse_fault(text, ApiFamily::OpenAi).unwrap_or_else(|e| panic!("{e}")));
    interposer.set_chain(0, Chain::new(rules.to_vec(), 1));
    // One HTTP/2 connection, prior knowledge: every request below shares it.
    let client = Client::builder(TokioExecutor::new()).http2_only(true).build_http::<Full<Bytes>>();

    let plain = client.request(request(interposer.addr, None)).await.expect("an answer");
    assert_eq!(plain.version(), http::Version::HTTP_2);
    assert_eq!(plain.status(), 200);
    let body = plain.into_body().collect().await.expect("body").to_bytes();
    assert!(body.ends_with(b"data: [DONE]\n\n"), "{}", String::from_utf8_lossy(&body));

    // A slow stream in flight (~1 s of trickled events) while another request on the same
    // connection is reset.
    let slow = tokio::spawn({
        let client = client.clone();
        let addr = interposer.addr;
        async move {
            let response = client.request(request(addr, Some("slow"))).await.expect("an answer");
            response.into_body().collect().await.map(|b| b.to_bytes())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A stream beside it does not wait for the slow one's upstream connection: it gets another.
    let started = std::time::Instant::now();
    let beside = client.request(request(interposer.addr, None)).await.expect("an answer");
    let beside = beside.into_body().collect().await.expect("body").to_bytes();
    assert!(beside.ends_with(b"data: [DONE]\n\n"), "{}", String::from_utf8_lossy(&beside));
    assert!(
        started.elapsed() < Duration::from_millis(500) && !slow.is_finished(),
        "the stream beside the slow one took {:?}",
        started.elapsed()
    );
    let reset = client.request(request(interposer.addr, Some("reset"))).await;
    assert!(reset.is_err(), "the reset request got an answer: {reset:?}");
    let slow = slow.await.expect("the task").expect("the slow stream was not cut by its neighbour's reset");
    assert!(slow.ends_with(b"data: [DONE]\n\n"), "{}", String::from_utf8_lossy(&slow));

    let attempts = crate::support::settled_attempts(&recorder, 4).await;
    let faults: Vec<&[String]> = attempts.iter().map(|a| a.faults.as_slice()).collect();
    assert!(faults.contains(&&["reset".to_owned()][..]), "{faults:?}");
    assert!(faults.contains(&&["trickle".to_owned()][..]), "{faults:?}");
}
