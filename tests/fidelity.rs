//! Pass-through fidelity: random bodies from 0 B to 5 MB, sent in random chunks, through an
//! interposer with no fault firing, to an upstream that echoes them back in other random
//! chunks (as a stream, with no length) — byte-identical both ways.

use bytes::Bytes;
use chaos::metrics::Recorder;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rand::{rngs::StdRng, Rng, SeedableRng};

type Chunk = Result<Frame<Bytes>, std::convert::Infallible>;

/// `bytes` cut into random pieces of 1 B to 64 KiB.
fn random_chunks(bytes: &[u8], rng: &mut StdRng) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let size = rng.random_range(1..=65_536).min(bytes.len() - at);
        chunks.push(Ok(Frame::data(Bytes::copy_from_slice(&bytes[at..at + size]))));
        at += size;
    }
    chunks
}

fn streamed(chunks: Vec<Chunk>) -> StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Chunk>>> {
    StreamBody::new(futures_util::stream::iter(chunks))
}

/// Echoes every request body back, as an SSE-typed stream in its own random chunks.
async fn echo_upstream() -> chaos::net::ServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    chaos::net::spawn(
        listener,
        Default::default(),
        |request: http::Request<hyper::body::Incoming>| async move {
            let seed = request
                .headers()
                .get("x-seed")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let chunks = random_chunks(&body, &mut StdRng::seed_from_u64(seed ^ 0xFF));
            Ok(http::Response::builder()
                .header("content-type", "text/event-stream")
                .body(streamed(chunks))
                .expect("response"))
        },
    )
    .expect("echo upstream starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bodies_in_random_chunks_come_back_byte_identical() {
    round_trip_random_bodies(None).await;
}

/// The same through the stream-fault machinery (split into events and put back together) with
/// a fault that never fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bodies_come_back_byte_identical_through_an_idle_stream_fault() {
    let idle = chaos::fault::StallFault {
        after_events: u64::MAX,
        duration: None,
        scope: chaos::fault::EventScope::Events,
    };
    round_trip_random_bodies(Some(chaos::fault::FaultAction::Stall(idle))).await;
}

async fn round_trip_random_bodies(fault: Option<chaos::fault::FaultAction>) {
    let upstream = echo_upstream().await;
    let interposer =
        crate::support::interposer(&format!("http://{}", upstream.addr), Vec::new(), &Recorder::new()).await;
    if let Some(fault) = fault {
        interposer.set_chain(0, chaos::fault::Chain::new(vec![chaos::fault::FaultRule::new(fault, 1.0)], 1));
    }
    let client =
        chaos::net::http_client::<StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Chunk>>>>();
    let mut rng = StdRng::seed_from_u64(20261122);
    let sizes = [0, 1, 2, 13, 4096, 65_537, 1_000_003, 5 * 1024 * 1024];
    for (seed, size) in sizes.into_iter().enumerate() {
        let body: Vec<u8> = (0..size).map(|_| rng.random()).collect();
        let request = http::Request::post(format!("http://{}/v1/echo", interposer.addr))
            .header("x-seed", seed.to_string())
            .body(streamed(random_chunks(&body, &mut rng)))
            .expect("request");
        let response = client.request(request).await.expect("response");
        assert_eq!(response.status(), 200);
        let echoed = response.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(echoed.len(), body.len(), "size {size}");
        assert!(echoed[..] == body[..], "size {size}: bytes changed in transit");
    }
}
