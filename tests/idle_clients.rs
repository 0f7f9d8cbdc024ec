//! Issue 25 item 4: idle and slow clients. The mock and the interposer close a connection whose
//! request head drips in (a 408) or never comes, and one left idle after an answer; over the cap
//! on open connections a new one gets a 503 and is counted while an open one is still served;
//! none of it cuts a fault's own timing. Also item 7's malformed chunked body through the
//! interposer: a 400, as from the mock. Real sockets on 127.0.0.1, small timeouts.

use std::time::{Duration, Instant};

use chaos::{
    metrics::Recorder,
    mock::{LatencyModel, MockBuilder, MockHandle},
    net::ConnectionLimits,
    proxy::InterposerHandle,
    scenario::parse_fault,
    wire::ApiFamily,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::support::{interposer_config, interposer_with};

const HEADER_TIMEOUT: Duration = Duration::from_millis(400);
const IDLE_TIMEOUT: Duration = Duration::from_millis(600);

fn limits(max_connections: usize) -> ConnectionLimits {
    ConnectionLimits { header_timeout: HEADER_TIMEOUT, idle_timeout: IDLE_TIMEOUT, max_connections }
}

const CHAT: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

fn chat_request(body: &str) -> String {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-test\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

async fn mock_within(limits: ConnectionLimits) -> MockHandle {
    MockBuilder::new(ApiFamily::OpenAi).connection_limits(limits).spawn().await.expect("mock starts")
}

/// An interposer within `limits` in front of a mock at its fastest, with `faults`.
async fn interposer_within(limits: ConnectionLimits, faults: &[&str]) -> (InterposerHandle, MockHandle) {
    interposer_over(limits, faults, LatencyModel::default()).await
}

/// An interposer within `limits` in front of a mock with `latency`, with `faults`.
async fn interposer_over(
    limits: ConnectionLimits,
    faults: &[&str],
    latency: LatencyModel,
) -> (InterposerHandle, MockHandle) {
    let mock = MockBuilder::new(ApiFamily::OpenAi).latency(latency).spawn().await.expect("mock starts");
    let mut config = interposer_config(&format!("http://{}", mock.addr), Vec::new(), &Recorder::new());
    config.connections = limits;
    let interposer = interposer_with(config).await;
    let rules = faults.iter().map(|text| parse_fault(text, ApiFamily::OpenAi).expect("a fault")).collect();
    interposer.set_chain(0, chaos::fault::Chain::new(rules, 1));
    (interposer, mock)
}

/// Reads one whole answer with a `content-length` (or, without one, to the close).
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                return text;
            }
        }
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(read @ 1..)) => answer.extend_from_slice(&buf[..read]),
            _ => return text,
        }
    }
}

/// Reads until the server closes; what came, and how long after `since` the close was.
async fn until_closed(stream: &mut TcpStream, since: Instant) -> (String, Duration) {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    (String::from_utf8_lossy(&answer).into_owned(), since.elapsed())
}

#[tokio::test]
async fn a_head_dripping_in_a_byte_at_a_time_gets_a_408_at_the_header_timeout() {
    let mock = mock_within(limits(64)).await;
    let (interposer, _upstream) = interposer_within(limits(64), &[]).await;
    for (server, addr) in [("mock", mock.addr), ("interposer", interposer.addr)] {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        let opened = Instant::now();
        let (mut reader, mut writer) = stream.split();
        let drip = async {
            for byte in chat_request(CHAT).bytes() {
                if writer.write_all(&[byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        let mut answer = Vec::new();
        let closed = async {
            let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
            opened.elapsed()
        };
        let after = tokio::select! { after = closed => after, () = drip => panic!("{server}: the whole request went in") };
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 408 Request Timeout\r\nconnection: close"),
            "{server}: {answer}"
        );
        assert!(after >= HEADER_TIMEOUT && after < HEADER_TIMEOUT * 4, "{server}: closed after {after:?}");
    }
    assert_eq!(mock.connection_counts().header_timeouts, 1);
    assert_eq!(interposer.connection_counts().header_timeouts, 1);
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout_without_an_answer() {
    let (interposer, _upstream) = interposer_within(limits(64), &[]).await;
    let mut stream = TcpStream::connect(interposer.addr).await.expect("connects");
    let (answer, after) = until_closed(&mut stream, Instant::now()).await;
    assert_eq!(answer, "", "nothing asked, nothing answered");
    assert!(after >= HEADER_TIMEOUT && after < HEADER_TIMEOUT * 4, "closed after {after:?}");
    assert_eq!(interposer.connection_counts().header_timeouts, 1);
}

#[tokio::test]
async fn a_connection_left_idle_after_an_answer_is_closed_at_the_idle_timeout() {
    let mock = mock_within(limits(64)).await;
    let (interposer, _upstream) = interposer_within(limits(64), &[]).await;
    for (server, addr) in [("mock", mock.addr), ("interposer", interposer.addr)] {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(chat_request(CHAT).as_bytes()).await.expect("sent");
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{server}: {answer}");
        let (more, after) = until_closed(&mut stream, Instant::now()).await;
        assert_eq!(more, "", "{server}");
        assert!(
            after >= IDLE_TIMEOUT * 9 / 10 && after < IDLE_TIMEOUT * 4,
            "{server}: closed after {after:?}"
        );
    }
    assert_eq!((mock.connection_counts().idle_timeouts, mock.connection_counts().header_timeouts), (1, 0));
    let counts = interposer.connection_counts();
    assert_eq!((counts.idle_timeouts, counts.header_timeouts), (1, 0));
}

#[tokio::test]
async fn over_the_cap_a_new_connection_gets_a_503_and_is_counted_while_an_open_one_is_served() {
    let relaxed = ConnectionLimits { max_connections: 2, ..ConnectionLimits::default() };
    let (interposer, _upstream) = interposer_within(relaxed, &[]).await;
    let mut first = TcpStream::connect(interposer.addr).await.expect("connects");
    first.write_all(chat_request(CHAT).as_bytes()).await.expect("sent");
    assert!(read_answer(&mut first).await.starts_with("HTTP/1.1 200 "));
    let _second = TcpStream::connect(interposer.addr).await.expect("connects");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(interposer.addr).await.expect("connects");
    let (shed, _) = until_closed(&mut third, Instant::now()).await;
    assert!(shed.starts_with("HTTP/1.1 503 Service Unavailable\r\nconnection: close"), "{shed}");
    assert_eq!(interposer.connection_counts().shed, 1);
    first.write_all(chat_request(CHAT).as_bytes()).await.expect("sent again");
    assert!(
        read_answer(&mut first).await.starts_with("HTTP/1.1 200 "),
        "the open connection is still served"
    );
    assert_eq!(interposer.connection_counts().open, 2);
}

/// A `latency` fault longer than both timeouts, a `hang` with no end and a stream slower than
/// them all keep their own timing: the timeouts run only while the server waits for its client.
#[tokio::test]
async fn a_fault_s_own_timing_is_not_cut_by_the_timeouts() {
    let outlast = (HEADER_TIMEOUT + IDLE_TIMEOUT) * 2;
    let (slow, _upstream) = interposer_within(limits(64), &["{ latency: 2s }"]).await;
    let mut stream = TcpStream::connect(slow.addr).await.expect("connects");
    let asked = Instant::now();
    stream.write_all(chat_request(CHAT).as_bytes()).await.expect("sent");
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(asked.elapsed() >= outlast, "answered after {:?}", asked.elapsed());
    // Answered, the connection idles like any other (and would be closed as idle): the target
    // goes rather than wait out the checks below.
    drop(stream);

    let (hung, _upstream) = interposer_within(limits(64), &["{ hang: forever }"]).await;
    let mut stream = TcpStream::connect(hung.addr).await.expect("connects");
    stream.write_all(chat_request(CHAT).as_bytes()).await.expect("sent");
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(outlast, stream.read(&mut buf)).await;
    assert!(waited.is_err(), "the hang still hangs: {waited:?}");

    // 24 tokens at 8 a second through the interposer: three seconds of stream.
    let slow_tokens = LatencyModel { tokens_per_second: 8.0, ..LatencyModel::default() };
    let (streaming, _upstream) = interposer_over(limits(64), &[], slow_tokens).await;
    let mut stream = TcpStream::connect(streaming.addr).await.expect("connects");
    let body = r#"{"model":"gpt-4o-mini","stream":true,"max_tokens":24,"messages":[{"role":"user","content":"hi"}]}"#;
    let asked = Instant::now();
    stream
        .write_all(chat_request(body).replace("HTTP/1.1\r\n", "HTTP/1.1\r\nconnection: close\r\n").as_bytes())
        .await
        .expect("sent");
    let (streamed, took) = until_closed(&mut stream, asked).await;
    assert!(streamed.contains("data: [DONE]"), "the whole stream came: {streamed}");
    assert!(took >= outlast, "streamed for {took:?}");
    for server in [slow, hung, streaming] {
        let counts = server.connection_counts();
        assert_eq!((counts.header_timeouts, counts.idle_timeouts), (0, 0), "{counts:?}");
    }
}

/// Item 7: a chunked body whose framing is broken gets the provider's 400 from the interposer,
/// whether it is a connection's first request (handed from the byte-level path to hyper at
/// once) or follows one the byte-level path served.
#[tokio::test]
async fn a_malformed_chunked_body_gets_a_400_from_the_interposer_on_either_path() {
    let (interposer, _upstream) = interposer_within(limits(64), &[]).await;
    let malformed = "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sk-test\r\n\
                     content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
    for first in [None, Some(chat_request(CHAT))] {
        let mut stream = TcpStream::connect(interposer.addr).await.expect("connects");
        if let Some(first) = &first {
            stream.write_all(first.as_bytes()).await.expect("sent");
            assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200 "));
        }
        stream.write_all(malformed.as_bytes()).await.expect("sent");
        let (answer, _) = until_closed(&mut stream, Instant::now()).await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "after {first:?}: {answer}");
        assert!(answer.contains("\"type\":\"invalid_request_error\""), "{answer}");
    }
}

/// Out of descriptors (`ulimit -n 64`, a cap set above it), the accept loop backs off and says
/// so in a bounded number of lines, each with a count, rather than ~100 a second; once the
/// connections go, it serves again.
#[test]
fn out_of_descriptors_the_accept_loop_backs_off_and_logs_a_bounded_number_of_lines() {
    use std::io::{BufRead, BufReader, Read};
    let mut mock = std::process::Command::new("sh")
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_chaos"))
        .args(["mock", "--openai", "127.0.0.1:0", "--threads", "1", "--max-connections", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chaos mock starts");
    let mut out = BufReader::new(mock.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a first line");
    let addr =
        line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("an address");
    let held: Vec<std::net::TcpStream> =
        (0..150).map(|_| std::net::TcpStream::connect(addr).expect("queued at least")).collect();
    let hold = Duration::from_secs(3);
    std::thread::sleep(hold);
    drop(held);
    std::thread::sleep(Duration::from_millis(1500));
    let (status, _) =
        crate::support::http(addr, "GET", "/v1/models", &[("authorization", "Bearer sk-x")], "");
    assert_eq!(status, 200, "served again once the connections went");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(mock.id() as i32), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    let mut stderr = String::new();
    mock.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr read");
    let _ = mock.wait();
    let lines: Vec<&str> = stderr.lines().filter(|line| line.contains("accept")).collect();
    let most = (hold.as_secs() / chaos::net::ACCEPT_FAILURE_LOG_EVERY.as_secs()) as usize + 2;
    assert!(!lines.is_empty() && lines.len() <= most, "{} lines: {stderr}", lines.len());
    assert!(lines[0].contains("failures="), "{}", lines[0]);
}
