//! Connections are kept and reused: the interposer's upstream connections follow the target's
//! (each connection to the interposer gets its own upstream connection, reused for its requests,
//! and a new one when the upstream closed the last), and the load generator sends one request
//! after another over one connection (and not on one the upstream closed).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use bytes::Bytes;
use chaos::metrics::Recorder;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// An upstream that answers `200 ok` (a JSON object) to every request and counts the connections it accepted;
/// with `close_after_answer` it closes each connection after one answer, without saying so
/// (as an upstream's idle timeout would).
async fn counting_upstream(close_after_answer: bool) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(length) = whole_request(&buffer) {
                        buffer.drain(..length);
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if stream.write_all(answer).await.is_err() || close_after_answer {
                            return;
                        }
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    (uri, accepted)
}

/// The length of the first request in `buffer` once it is all there (head and its
/// `content-length` body).
fn whole_request(buffer: &[u8]) -> Option<usize> {
    let head = buffer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body = String::from_utf8_lossy(&buffer[..head])
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().parse().ok())
        })
        .flatten()
        .unwrap_or(0);
    (buffer.len() >= head + body).then_some(head + body)
}

/// An upstream that answers `413` to a request with a big body as soon as its head is in, then
/// neither reads nor closes that connection; a small request it reads whole and answers `200`.
async fn early_answering_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    if let Some(head) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                        if whole_request(&buffer).is_none() && buffer.len() > head + 4 + 64 * 1024 {
                            let answer = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n";
                            let _ = stream.write_all(answer).await;
                            // Holds the connection, reading nothing more.
                            std::future::pending::<()>().await;
                        }
                        if let Some(length) = whole_request(&buffer) {
                            buffer.drain(..length);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                            continue;
                        }
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    uri
}

/// One keep-alive connection to `addr`.
async fn connection(addr: std::net::SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn get_ok(sender: &mut SendRequest<Empty<Bytes>>) {
    sender.ready().await.expect("connection ready");
    let request =
        http::Request::get("/v1/models").header("host", "chaos.test").body(Empty::new()).expect("request");
    let response = sender.send_request(request).await.expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.into_body().collect().await.expect("body").to_bytes(), "{}");
}

#[tokio::test]
async fn each_connection_to_the_interposer_gets_one_upstream_connection_of_its_own() {
    let (upstream, accepted) = counting_upstream(false).await;
    let recorder = Recorder::default();
    let interposer = crate::support::interposer(&upstream, Vec::new(), &recorder).await;

    let mut first = connection(interposer.addr).await;
    for _ in 0..3 {
        get_ok(&mut first).await;
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "three requests on one connection, one upstream connection"
    );

    let mut second = connection(interposer.addr).await;
    get_ok(&mut second).await;
    get_ok(&mut first).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "a second connection gets its own");
    interposer.shutdown().await;
}

#[tokio::test]
async fn an_upstream_connection_closed_after_an_answer_is_replaced_for_the_next_request() {
    let (upstream, accepted) = counting_upstream(true).await;
    let recorder = Recorder::default();
    let interposer = crate::support::interposer(&upstream, Vec::new(), &recorder).await;

    let mut target = connection(interposer.addr).await;
    for _ in 0..3 {
        get_ok(&mut target).await;
        // Time for the interposer to see the close (a request sent into a connection the
        // upstream is closing that instant fails as it would between any client and server).
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "one upstream connection per answer");
    interposer.shutdown().await;
}

/// Three requests from the load generator, one after another, to an upstream that closes each
/// connection after one answer or not: each must come back ok; returns the connections it accepted.
async fn generator_sends_three(close_after_answer: bool) -> usize {
    let (upstream, accepted) = counting_upstream(close_after_answer).await;
    let route = chaos::load::Route {
        base: upstream.parse().expect("uri"),
        family: Some(chaos::wire::ApiFamily::OpenAi),
        api_keys: vec!["sk-test".to_owned()],
        upstream: None,
        pooled: false,
        model: None,
    };
    let config = chaos::load::ClientConfig {
        routes: vec![route],
        retries: 0,
        policy: Default::default(),
        timeout: std::time::Duration::from_secs(5),
        seed: 1,
        speed: chaos::speed::Speed::REAL_TIME,
    };
    let client =
        chaos::load::LoadClient::new(config, chaos::metrics::RunClock::start_now()).expect("a client");
    let spec = chaos::load::body::RequestSpec {
        api: chaos::wire::ApiFamily::OpenAi,
        model: "gpt-4o-mini".into(),
        stream: false,
        endpoint: Default::default(),
        prompt_tokens: 10,
        max_tokens: Some(5),
        shape: None,
        agent: None,
    };
    for id in 0..3 {
        let completion = client.send(id, &spec, "hello").await;
        assert_eq!(completion.outcome, chaos::metrics::Outcome::Ok, "{completion:?}");
    }
    accepted.load(Ordering::SeqCst)
}

#[tokio::test]
async fn the_load_generator_sends_one_request_after_another_over_one_connection() {
    assert_eq!(generator_sends_three(false).await, 1, "three requests in turn, one connection");
}

#[tokio::test]
async fn the_load_generator_does_not_send_on_a_connection_the_upstream_closed_after_its_answer() {
    // With no retries, a POST written to the closed connection would come back as a
    // connection error (it is never resent once written).
    assert_eq!(generator_sends_three(true).await, 3, "a new connection for each request");
}

#[tokio::test]
async fn a_connection_the_upstream_stopped_reading_is_not_waited_for() {
    let upstream = early_answering_upstream().await;
    let recorder = Recorder::default();
    let interposer = crate::support::interposer(&upstream, Vec::new(), &recorder).await;
    let stream = TcpStream::connect(interposer.addr).await.expect("connects");
    let (mut target, connection) = http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let post = |size: usize| {
        http::Request::post("/v1/chat/completions")
            .header("host", "chaos.test")
            .body(http_body_util::Full::new(Bytes::from(vec![b'x'; size])))
            .expect("request")
    };
    target.ready().await.expect("ready");
    let refused = target.send_request(post(32 << 20)).await.expect("an answer");
    assert_eq!(refused.status(), 413);
    // The upstream connection is stuck writing the rest of that body: the next request must
    // not wait for it.
    target.ready().await.expect("ready");
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), target.send_request(post(10)))
        .await
        .expect("the next request was answered in time")
        .expect("an answer");
    assert_eq!(next.status(), 200);
    interposer.shutdown().await;
}
