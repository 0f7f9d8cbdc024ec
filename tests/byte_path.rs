//! The interposer's byte-level path (`crates/chaos-runtime/src/proxy/front/`) and its hand-over
//! to hyper: a fault that fires is decided once, whichever path carries it out; every fault but
//! `bandwidth` is carried out on the byte path, its connection staying there (no hand-over
//! counted) and the target seeing what hyper's path would send; what the fast path leaves to
//! hyper (h2c, `Expect`, a chunked request, a throttled answer) is still served; requests sent
//! back to back are answered in order; an answer the upstream cuts short reaches the target as
//! cut, and is recorded so; a target that hangs up while its answer is awaited is recorded as
//! cancelled; a POST that went out is never sent twice.

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

// Faults carried out on the byte-level path: the connection stays there (no hand-over to hyper)
// and serves the next request on the same socket.

/// A chat request, streamed or not, on a kept connection.
fn chat(stream: bool) -> Vec<u8> {
    let body = format!(
        r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"max_tokens":6,"stream":{stream}}}"#
    );
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A whole answer read off a raw socket: status, head (lower-cased) and body (de-chunked).
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// Reads the next final answer off `stream`, keeping what follows it in `read`.
async fn next_answer(stream: &mut TcpStream, read: &mut Vec<u8>) -> Answer {
    loop {
        if let Some(answer) = whole_answer(read) {
            return answer;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed before a whole answer: {}", String::from_utf8_lossy(read));
        read.extend_from_slice(&chunk[..n]);
    }
}

/// The first final answer (1xx skipped) of either framing in `read`, taken out of it, once it
/// is whole.
fn whole_answer(read: &mut Vec<u8>) -> Option<Answer> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = response.parse(read) else { return None };
        let status = response.code.expect("status");
        if (100..200).contains(&status) {
            read.drain(..head_len);
            continue;
        }
        let head = String::from_utf8_lossy(&read[..head_len]).to_lowercase();
        let length = response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case("content-length"))
            .map(|header| std::str::from_utf8(header.value).unwrap().parse::<usize>().unwrap());
        let (used, body) = match length {
            Some(length) if read.len() >= head_len + length => {
                (head_len + length, read[head_len..head_len + length].to_vec())
            }
            Some(_) => return None,
            None => dechunked(&read[head_len..]).map(|(used, body)| (head_len + used, body))?,
        };
        read.drain(..used);
        return Some(Answer { status, head, body: String::from_utf8(body).expect("UTF-8") });
    }
}

/// A whole chunked body at the start of `bytes`: how many bytes it took, and its data.
fn dechunked(bytes: &[u8]) -> Option<(usize, Vec<u8>)> {
    let (mut at, mut data) = (0, Vec::new());
    loop {
        let line_end = at + bytes[at..].windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&bytes[at..line_end]).ok()?, 16).ok()?;
        let start = line_end + 2;
        if bytes.len() < start + size + 2 {
            return None;
        }
        data.extend_from_slice(&bytes[start..start + size]);
        at = start + size + 2;
        if size == 0 {
            return Some((at, data));
        }
    }
}

/// An interposer in front of the OpenAI mock with `fault` on the first request only; sends
/// `first` then a plain chat on one connection. Both answers, when the first one's whole answer
/// came (from its request), the interposer's hand-overs to hyper, and the attempts.
async fn on_one_connection(
    fault: FaultAction,
    first: &[u8],
) -> (Answer, Answer, Duration, u64, Vec<chaos::metrics::AttemptRecord>) {
    let mock = chaos::mock::MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let recorder = Recorder::new();
    let interposer = interposer(&format!("http://{}", mock.addr), Vec::new(), &recorder).await;
    let first_only =
        FaultRule { dose: Dose { first: Some(1), ..Dose::default() }, ..FaultRule::new(fault, 1.0) };
    interposer.set_chain(0, Chain::new(vec![first_only], 1));
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    let mut read = Vec::new();
    let started = std::time::Instant::now();
    stream.write_all(first).await.expect("write");
    let faulted = next_answer(&mut stream, &mut read).await;
    let took = started.elapsed();
    stream.write_all(&chat(false)).await.expect("write");
    let plain = next_answer(&mut stream, &mut read).await;
    let attempts = settled_attempts(&recorder, 2).await;
    (faulted, plain, took, interposer.connection_counts().handed_over, attempts)
}

fn events(body: &str) -> Vec<&str> {
    body.split("\n\n").filter(|event| !event.is_empty()).collect()
}

#[tokio::test]
async fn a_status_fault_is_answered_on_the_byte_path_and_its_connection_stays_there() {
    let wait = Some(chaos::fault::DelayDistribution::Fixed(Duration::from_secs(2)));
    let status = StatusFault {
        status: 503,
        family: ApiFamily::OpenAi,
        retry_after: wait,
        quota: false,
        should_retry: None,
    };
    let (faulted, plain, _, handed_over, attempts) =
        on_one_connection(FaultAction::Status(status), &chat(false)).await;

    assert_eq!((faulted.status, plain.status), (503, 200), "a 503, then a 200 on the same socket");
    assert!(faulted.head.contains("retry-after: 2\r\n"), "{}", faulted.head);
    assert!(faulted.body.contains("\"error\""), "{}", faulted.body);
    assert_eq!(handed_over, 0, "served on the byte-level path throughout");
    assert_eq!((attempts[0].outcome, attempts[0].injected), (AttemptOutcome::Status(503), true));
    assert_eq!(attempts[0].retry_after, Some(Duration::from_secs(2)), "the wait it asked, recorded");
    assert_eq!(attempts[0].answer.bytes, faulted.body.len() as u64);
    assert_eq!(attempts[1].outcome, AttemptOutcome::Status(200));
}

#[tokio::test]
async fn a_latency_fault_waits_on_the_byte_path_then_forwards() {
    let latency = chaos::fault::LatencyFault::fixed(Duration::from_millis(300));
    let (faulted, plain, took, handed_over, attempts) =
        on_one_connection(FaultAction::Latency(latency), &chat(false)).await;

    assert_eq!((faulted.status, plain.status), (200, 200));
    assert!(took >= Duration::from_millis(300), "answered after {took:?}");
    assert_eq!(handed_over, 0);
    assert_eq!(attempts[0].faults, ["latency"]);
}

/// Sends one chat on a fresh connection to an interposer with `fault` always on; what the
/// target read until the connection ended, how long that took, and the interposer's hand-overs.
async fn until_closed(fault: FaultAction) -> (std::io::Result<Vec<u8>>, Duration, u64, Recorder) {
    until_closed_after(fault, &chat(false)).await
}

/// As [`until_closed`], sending `request`.
async fn until_closed_after(
    fault: FaultAction,
    request: &[u8],
) -> (std::io::Result<Vec<u8>>, Duration, u64, Recorder) {
    let mock = chaos::mock::MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let recorder = Recorder::new();
    let interposer = interposer(&format!("http://{}", mock.addr), Vec::new(), &recorder).await;
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(fault, 1.0)], 1));
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.expect("ends");
    (read.map(|_| answer), started.elapsed(), interposer.connection_counts().handed_over, recorder)
}

#[tokio::test]
async fn a_reset_is_carried_out_on_the_byte_path() {
    let (read, _, handed_over, recorder) = until_closed(FaultAction::Reset(chaos::fault::ResetFault)).await;

    assert_eq!(read.expect_err("a reset").kind(), std::io::ErrorKind::ConnectionReset);
    assert_eq!(handed_over, 0);
    let attempts = recorder.snapshot().attempts;
    assert_eq!(
        (attempts[0].outcome, attempts[0].injected),
        (AttemptOutcome::Aborted, true),
        "recorded first"
    );
}

#[tokio::test]
async fn a_bounded_hang_is_carried_out_on_the_byte_path() {
    let hang = chaos::fault::HangFault { duration: Some(Duration::from_millis(300)) };
    let (read, waited, handed_over, recorder) = until_closed(FaultAction::Hang(hang)).await;

    assert_eq!(read.expect("a clean close"), b"", "no answer at all");
    assert!(waited >= Duration::from_millis(300), "closed after {waited:?}");
    assert_eq!(handed_over, 0);
    assert_eq!(recorder.snapshot().attempts[0].outcome, AttemptOutcome::Aborted);
}

/// Asserts what every stream fault on the byte path shows: the stream re-framed as chunked, the
/// plain chat after it answered on the same socket, no hand-over, the fault recorded.
fn assert_streamed_on_the_byte_path(
    (faulted, plain, handed_over, attempts): (&Answer, &Answer, u64, &[chaos::metrics::AttemptRecord]),
    label: &str,
) {
    assert_eq!((faulted.status, plain.status), (200, 200));
    assert!(faulted.head.contains("transfer-encoding: chunked\r\n"), "{}", faulted.head);
    assert!(!faulted.head.contains("content-length"), "{}", faulted.head);
    assert_eq!(handed_over, 0, "served on the byte-level path throughout");
    assert_eq!(attempts[0].faults, [label]);
    assert_eq!(attempts[0].answer.bytes, faulted.body.len() as u64, "what went back is what is recorded");
    assert!(attempts[1].faults.is_empty());
}

#[tokio::test]
async fn a_cut_runs_on_the_byte_path() {
    let cut = chaos::fault::CutFault { after_events: 3, scope: chaos::fault::EventScope::Events };
    let (faulted, plain, _, handed_over, attempts) =
        on_one_connection(FaultAction::Cut(cut), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "cut");
    assert_eq!(events(&faulted.body).len(), 3, "{}", faulted.body);
    assert!(!faulted.body.contains("[DONE]"));
    assert_eq!(attempts[0].answer.completed, Some(false));
}

#[tokio::test]
async fn a_stall_runs_on_the_byte_path() {
    let stall = chaos::fault::StallFault {
        after_events: 2,
        duration: Some(Duration::from_millis(300)),
        scope: chaos::fault::EventScope::Events,
    };
    let (faulted, plain, took, handed_over, attempts) =
        on_one_connection(FaultAction::Stall(stall), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "stall");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(faulted.body.ends_with("data: [DONE]\n\n"), "{}", faulted.body);
    assert_eq!(attempts[0].answer.completed, Some(true));
}

#[tokio::test]
async fn a_trickle_runs_on_the_byte_path() {
    let trickle = chaos::fault::TrickleFault::fixed(Duration::from_millis(40));
    let (faulted, plain, took, handed_over, attempts) =
        on_one_connection(FaultAction::Trickle(trickle), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "trickle");
    let spaced = events(&faulted.body).len() as u32;
    assert!(took >= Duration::from_millis(40) * spaced, "{spaced} events in {took:?}");
    assert!(faulted.body.ends_with("data: [DONE]\n\n"), "{}", faulted.body);
}

#[tokio::test]
async fn a_drop_runs_on_the_byte_path() {
    let drop = chaos::fault::DropFault { what: chaos::fault::DroppedEvent::Done };
    let (faulted, plain, _, handed_over, attempts) =
        on_one_connection(FaultAction::Drop(drop), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "drop:done");
    assert!(!faulted.body.contains("[DONE]") && faulted.body.contains("chaos"), "{}", faulted.body);
}

#[tokio::test]
async fn an_inject_runs_on_the_byte_path() {
    let inject = chaos::fault::InjectFault {
        what: chaos::fault::Injected::Error,
        after_events: 1,
        scope: chaos::fault::EventScope::Events,
        family: ApiFamily::OpenAi,
    };
    let (faulted, plain, _, handed_over, attempts) =
        on_one_connection(FaultAction::Inject(inject), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "inject:error");
    let events = events(&faulted.body);
    assert_eq!(events.len(), 2, "{}", faulted.body);
    assert!(events[1].starts_with("data: {\"error\":"), "{}", events[1]);
}

#[tokio::test]
async fn a_slow_close_runs_on_the_byte_path() {
    let hold = Duration::from_millis(300);
    let slow_close = chaos::fault::SlowCloseFault { hold };
    let (faulted, plain, took, handed_over, attempts) =
        on_one_connection(FaultAction::SlowClose(slow_close), &chat(true)).await;

    assert_streamed_on_the_byte_path((&faulted, &plain, handed_over, &attempts), "slow_close");
    assert!(took >= hold, "{took:?}");
    assert!(faulted.body.ends_with("data: [DONE]\n\n"), "{}", faulted.body);
}

/// The names of an answer's headers, sorted.
fn header_names(answer: &Answer) -> Vec<String> {
    let mut names: Vec<String> = answer
        .head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':').map(|(name, _)| name.to_owned()))
        .collect();
    names.sort();
    names
}

/// `request` with one more header, `line` (without its CRLF).
fn with_header(request: &[u8], line: &str) -> Vec<u8> {
    String::from_utf8(request.to_vec())
        .expect("UTF-8")
        .replacen("\r\n\r\n", &format!("\r\n{line}\r\n\r\n"), 1)
        .into_bytes()
}

/// A status answer reads the same on either path, `connection: close` included when the target
/// asked to close.
#[tokio::test]
async fn a_status_answer_reads_the_same_on_either_path() {
    let status = || {
        FaultAction::Status(StatusFault {
            status: 503,
            family: ApiFamily::OpenAi,
            retry_after: None,
            quota: false,
            should_retry: None,
        })
    };
    let closing = with_header(&chat(false), "connection: close");
    let mut heads = Vec::new();
    for request in [closing.clone(), with_header(&closing, "expect: 100-continue")] {
        let (read, _, handed_over, _) = until_closed_after(status(), &request).await;
        let answer = whole_answer(&mut read.expect("answered, then closed")).expect("a whole answer");
        heads.push((handed_over, header_names(&answer), answer.status));
    }
    assert_eq!(heads[0].0, 0, "the first on the byte path");
    assert_eq!(heads[1].0, 1, "the second on hyper's");
    assert_eq!((heads[0].2, heads[1].2), (503, 503));
    assert!(heads[0].1.contains(&"connection".to_owned()), "{:?}", heads[0].1);
    assert_eq!(heads[0].1, heads[1].1);
}

/// hyper's path (here through `Expect: 100-continue`, which the byte path leaves to it) and the
/// byte path send the same cut stream, framed alike.
#[tokio::test]
async fn a_stream_fault_reads_the_same_on_either_path() {
    let cut = || {
        FaultAction::Cut(chaos::fault::CutFault { after_events: 2, scope: chaos::fault::EventScope::Events })
    };
    let expecting = with_header(&chat(true), "expect: 100-continue");
    let (on_bytes, _, _, bytes_handed_over, _) = on_one_connection(cut(), &chat(true)).await;
    let (on_hyper, _, _, hyper_handed_over, _) = on_one_connection(cut(), &expecting).await;

    assert_eq!((bytes_handed_over, hyper_handed_over), (0, 1), "one on each path");
    assert_eq!(header_names(&on_bytes), header_names(&on_hyper), "the same headers");
    assert_eq!(events(&on_bytes.body).len(), events(&on_hyper.body).len());
}

#[tokio::test]
async fn h2c_expect_and_a_throttled_answer_are_left_to_hyper() {
    let upstream = upstream_answering_ok().await;
    let recorder = Recorder::new();
    let interposer = interposer(&upstream.uri(), Vec::new(), &recorder).await;
    let h2c = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = http::Request::post(format!("http://{}/v1/chat/completions", interposer.addr))
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"{}")))
        .expect("request");
    assert_eq!(h2c.request(request).await.expect("answered over h2c").status(), 200);
    assert_eq!(interposer.connection_counts().handed_over, 1, "h2c is hyper's");

    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    let expecting = String::from_utf8(POST.to_vec()).expect("UTF-8").replacen(
        "\r\n\r\n",
        "\r\nexpect: 100-continue\r\n\r\n",
        1,
    );
    stream.write_all(expecting.as_bytes()).await.expect("write");
    assert_eq!(next_answer(&mut stream, &mut Vec::new()).await.status, 200);
    assert_eq!(interposer.connection_counts().handed_over, 2, "Expect is hyper's");

    let throttle = chaos::fault::BandwidthFault { bytes_per_second: 1_000_000 };
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(FaultAction::Bandwidth(throttle), 1.0)], 1));
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connect");
    stream.write_all(POST).await.expect("write");
    assert_eq!(next_answer(&mut stream, &mut Vec::new()).await.status, 200);
    assert_eq!(interposer.connection_counts().handed_over, 3, "a throttled answer is hyper's");
}
