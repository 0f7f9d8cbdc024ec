//! The interposer's byte-level path (`src/proxy/front.rs`) and its hand-over to hyper: a fault
//! that fires is decided once, whichever path carries it out; what the fast path leaves to
//! hyper is still served; requests sent back to back are answered in order; an answer the
//! upstream cuts short reaches the target as cut, and is recorded so; a target that hangs up
//! while its answer is awaited is recorded as cancelled; a POST that went out is never sent twice.

use std::time::Duration;

use chaos::{
    fault::{Chain, Dose, FaultAction, FaultRule, StatusFault},
    metrics::{AttemptOutcome, Recorder},
    wire::ApiFamily,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};

use crate::support::{interposer, settled_attempts};

const POST: &[u8] = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";

/// Reads whole answers off `stream` until `count` have come: each answer's status and body.
async fn answers(stream: &mut TcpStream, count: usize) -> Vec<(u16, Vec<u8>)> {
    let mut read = Vec::new();
    let mut answers = Vec::new();
    let mut chunk = [0u8; 4096];
    while answers.len() < count {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = response.parse(&read) {
            let length: usize = response
                .headers
                .iter()
                .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                .map(|header| std::str::from_utf8(header.value).unwrap().parse().unwrap())
                .expect("answers here have a length");
            if read.len() >= head + length {
                answers.push((response.code.unwrap(), read[head..head + length].to_vec()));
                read.drain(..head + length);
                continue;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed after {} answers", answers.len());
        read.extend_from_slice(&chunk[..n]);
    }
    answers
}

async fn upstream_answering_ok() -> MockServer {
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&upstream)
        .await;
    upstream
}

#[tokio::test]
async fn a_fault_that_fires_on_a_kept_connection_is_decided_once_and_the_connection_serves_on() {
    let upstream = upstream_answering_ok().await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream.uri(), Vec::new(), &recorder).await;
    let fault = StatusFault {
        status: 429,
        family: ApiFamily::OpenAi,
        retry_after: None,
        quota: false,
        should_retry: None,
    };
    let first_only = FaultRule {
        dose: Dose { first: Some(1), ..Dose::default() },
        ..FaultRule::new(FaultAction::Status(fault), 1.0)
    };
    interposer.set_chain(0, Chain::new(vec![first_only], 1));

    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        stream.write_all(POST).await.expect("write");
        statuses.push(answers(&mut stream, 1).await[0].0);
    }

    // Decided twice (once by the byte-level path, again by hyper's), `first: 1` would have
    // counted the first request twice and let it through.
    assert_eq!(statuses, [429, 200, 200], "one connection, the fault on the first request only");
    assert_eq!(upstream.received_requests().await.expect("recording on").len(), 2);
    let attempts = settled_attempts(&recorder, 3).await;
    assert_eq!(attempts.len(), 3, "one record a request");
    assert_eq!(attempts.iter().filter(|attempt| attempt.injected).count(), 1);
}

#[tokio::test]
async fn requests_sent_back_to_back_are_answered_in_order_and_a_chunked_one_is_left_to_hyper() {
    let upstream = upstream_answering_ok().await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream.uri(), Vec::new(), &recorder).await;
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    let chunked = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{\"a\r\n3\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n";
    let mut pipelined = [POST, POST].concat();
    pipelined.extend_from_slice(chunked);
    pipelined.extend_from_slice(POST);
    stream.write_all(&pipelined).await.expect("write");

    let answered = answers(&mut stream, 4).await;

    assert_eq!(answered.iter().map(|(status, _)| *status).collect::<Vec<_>>(), [200; 4]);
    let received = upstream.received_requests().await.expect("recording on");
    let bodies: Vec<&[u8]> = received.iter().map(|request| request.body.as_slice()).collect();
    assert_eq!(bodies, [&b"{}"[..], b"{}", b"{\"a\":1}", b"{}"], "each body whole, in order");
    assert_eq!(settled_attempts(&recorder, 4).await.len(), 4);
}

#[tokio::test]
async fn an_answer_the_upstream_cuts_short_reaches_the_target_cut_and_is_recorded_incomplete() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"cut\":",
            )
            .await;
    });
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, Vec::new(), &recorder).await;
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    stream.write_all(POST).await.expect("write");

    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the target's connection is closed")
        .expect("read");

    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.ends_with("\r\n\r\n{\"cut\":"), "{answer}");
    let attempts = settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].outcome, AttemptOutcome::Status(200));
    assert_eq!(attempts[0].answer.completed, Some(false));
    assert_eq!(attempts[0].answer.bytes, 7);
}

#[tokio::test]
async fn a_target_that_hangs_up_while_its_answer_is_awaited_is_recorded_as_cancelled() {
    let upstream = MockServer::start().await;
    let slow = ResponseTemplate::new(200).set_body_string("{}").set_delay(Duration::from_millis(600));
    Mock::given(method("POST")).respond_with(slow).mount(&upstream).await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream.uri(), Vec::new(), &recorder).await;
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    stream.write_all(POST).await.expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);

    let attempts = settled_attempts(&recorder, 1).await;

    assert_eq!(attempts[0].outcome, AttemptOutcome::Cancelled, "not the 200 that came after it left");
    assert_eq!(upstream.received_requests().await.expect("recording on").len(), 1);
}

#[tokio::test]
async fn a_post_that_went_out_on_a_kept_connection_is_not_sent_again_when_it_closes_unanswered() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let upstream = format!("http://{}", listener.local_addr().expect("addr"));
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&received);
    tokio::spawn(async move {
        // Answers the first request of each connection; reads the second and closes unanswered.
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = std::sync::Arc::clone(&counter);
            tokio::spawn(async move {
                let mut read = Vec::new();
                let mut chunk = [0u8; 4096];
                let mut answered = 0;
                loop {
                    while read.len() >= POST.len() {
                        read.drain(..POST.len());
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if answered == 1 {
                            return;
                        }
                        answered += 1;
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        let _ = stream.write_all(ok).await;
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    let recorder = Recorder::new();
    let interposer = interposer(&upstream, Vec::new(), &recorder).await;
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    let mut statuses = Vec::new();
    for _ in 0..2 {
        stream.write_all(POST).await.expect("write");
        statuses.push(answers(&mut stream, 1).await[0].0);
    }

    assert_eq!(statuses, [200, 502], "the second POST is answered as unreachable, not retried");
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 2, "the upstream saw each POST once");
    let attempts = settled_attempts(&recorder, 2).await;
    assert_eq!(attempts[1].outcome, AttemptOutcome::Unreachable);
}
