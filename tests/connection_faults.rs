//! Faults below HTTP, over raw TCP so the difference shows: `reset` sends a TCP RST (the read
//! fails with ConnectionReset), `hang` with a duration closes cleanly with no answer (EOF).

use std::time::{Duration, Instant};

use chaos::{
    fault::{Chain, FaultAction, FaultRule, HangFault, ResetFault},
    metrics::{AttemptOutcome, Recorder},
    mock::{MockBuilder, MockHandle},
    proxy::InterposerHandle,
    wire::ApiFamily,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn interposer(fault: FaultAction, recorder: &Recorder) -> (InterposerHandle, MockHandle) {
    let mock = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let interposer = crate::support::interposer(&format!("http://{}", mock.addr), Vec::new(), recorder).await;
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(fault, 1.0)], 1));
    (interposer, mock)
}

/// Sends one raw HTTP request and reads until the connection ends.
async fn exchange(interposer: &InterposerHandle) -> (std::io::Result<Vec<u8>>, Duration) {
    let mut stream = tokio::net::TcpStream::connect(interposer.addr).await.expect("connect");
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer sk\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.expect("ends");
    (read.map(|_| answer), started.elapsed())
}

#[tokio::test]
async fn reset_kills_the_connection_with_a_tcp_rst() {
    let recorder = Recorder::new();
    let (interposer, _mock) = interposer(FaultAction::Reset(ResetFault), &recorder).await;
    let (read, _) = exchange(&interposer).await;
    let error = read.expect_err("a reset, not an answer or a clean close");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    let attempts = recorder.snapshot().attempts;
    assert_eq!((attempts[0].outcome, attempts[0].injected), (AttemptOutcome::Aborted, true));
    assert_eq!(attempts[0].faults, ["reset"]);
}

#[tokio::test]
async fn a_bounded_hang_answers_nothing_then_closes() {
    let recorder = Recorder::new();
    let hang = HangFault { duration: Some(Duration::from_millis(300)) };
    let (interposer, _mock) = interposer(FaultAction::Hang(hang), &recorder).await;
    let (read, waited) = exchange(&interposer).await;
    assert_eq!(read.expect("a clean close"), b"", "no answer at all");
    assert!(waited >= Duration::from_millis(300), "closed after {waited:?}");
}

#[tokio::test]
async fn malformed_http_gets_a_400_not_a_hang_or_a_panic() {
    let recorder = Recorder::new();
    let (interposer, _mock) = interposer(FaultAction::Hang(HangFault { duration: None }), &recorder).await;
    let mut stream = tokio::net::TcpStream::connect(interposer.addr).await.expect("connect");
    stream.write_all(b"THIS IS NOT HTTP\r\n\r\n").await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered promptly")
        .expect("read");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(recorder.snapshot().attempts.is_empty(), "no request reached the fault chain");
}

#[tokio::test]
async fn a_dark_interposer_refuses_connections_resets_open_ones_and_comes_back_on_its_port() {
    let recorder = Recorder::new();
    let (interposer, _mock) = interposer(FaultAction::Reset(ResetFault), &recorder).await;
    interposer.set_chain(0, Chain::empty());
    let mut open = tokio::net::TcpStream::connect(interposer.addr).await.expect("connect while listening");
    tokio::time::sleep(Duration::from_millis(50)).await;

    interposer.set_refusing(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = tokio::net::TcpStream::connect(interposer.addr).await.expect_err("dark: refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let mut buffer = [0u8; 16];
    let read = open.read(&mut buffer).await;
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "the open connection is reset: {read:?}"
    );

    interposer.set_refusing(false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (answer, _) = exchange(&interposer).await;
    assert!(String::from_utf8_lossy(&answer.expect("answered")).starts_with("HTTP/1.1 200"));
}

/// A target that hangs up mid-upload, while a fault needs the body, is recorded as cancelled —
/// not as a 413 the interposer never had anyone to send to.
#[tokio::test]
async fn a_half_sent_body_is_recorded_as_cancelled() {
    let recorder = Recorder::new();
    let picky = FaultRule {
        matcher: chaos::fault::Matcher { model: Some("gpt-4o".into()), ..Default::default() },
        ..FaultRule::new(FaultAction::Reset(ResetFault), 1.0)
    };
    let (interposer, _mock) = interposer(FaultAction::Reset(ResetFault), &recorder).await;
    interposer.set_chain(0, Chain::new(vec![picky], 1));
    let mut stream = tokio::net::TcpStream::connect(interposer.addr).await.expect("connect");
    stream
        .write_all(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"model\":",
        )
        .await
        .expect("write");
    stream.shutdown().await.expect("half-close");
    let mut answer = Vec::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("closed");
    assert!(!String::from_utf8_lossy(&answer).contains("413"), "{}", String::from_utf8_lossy(&answer));
    let attempts = crate::support::settled_attempts(&recorder, 1).await;
    assert_eq!(attempts[0].outcome, AttemptOutcome::Cancelled);
}
