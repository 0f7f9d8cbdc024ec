//! The soak over the new limits, small enough for CI (`benches/idle_soak.sh` is the 20,000-
//! connection one): 2,000 idle connections against `chaos proxy --max-connections 1000` while
//! a keep-alive client opened before them asks every 20 ms. The proxy holds its cap, sheds the
//! rest with a 503 and counts them, and every good request is answered within a bound.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use chaos::{mock::MockBuilder, wire::ApiFamily};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const IDLE: usize = 2_000;
const CAP: usize = 1_000;
/// The slowest a good request may be answered while the flood comes (a debug build, 2 cores
/// shared with the rest of the suite).
const BOUND: Duration = Duration::from_secs(2);

const BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

/// Asks on `stream` until `stop`; each answer's latency.
async fn good_client(mut stream: TcpStream, stop: tokio::sync::watch::Receiver<bool>) -> Vec<Duration> {
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: soak\r\nauthorization: Bearer sk-soak\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut latencies = Vec::new();
    let mut buf = vec![0u8; 65536];
    while !*stop.borrow() {
        let asked = Instant::now();
        stream.write_all(request.as_bytes()).await.expect("the good client's request goes");
        let mut answer = Vec::new();
        while !complete(&answer) {
            let read = stream.read(&mut buf).await.expect("the good client is answered");
            assert!(read > 0, "the good client's connection was closed");
            answer.extend_from_slice(&buf[..read]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200 "), "{}", String::from_utf8_lossy(&answer));
        latencies.push(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies
}

/// Whether `answer` holds a whole head and as much body as its `content-length` says.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:")?.trim().parse().ok());
    length.is_some_and(|length: usize| body.len() >= length)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_are_held_to_the_cap_and_shed_beyond_while_good_requests_are_answered()
{
    let mock = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("mock starts");
    let upstream = format!("http://{}", mock.addr);
    let cap = CAP.to_string();
    let mut proxy = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--upstream", &upstream, "--threads", "2"])
        .args(["--max-connections", &cap])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chaos proxy starts");
    let mut out = BufReader::new(proxy.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("a first line");
    let addr =
        line.split("http://").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("an address");
    let addr = addr.to_owned();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let good = tokio::spawn(good_client(TcpStream::connect(&addr).await.expect("connects"), stopped));
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(&addr).await.expect("connects (shed ones too)"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut held, mut shed) = (0, 0);
    for stream in &idle {
        let mut buf = [0u8; 64];
        match stream.try_read(&mut buf) {
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => held += 1,
            Ok(0) => shed += 1,
            Ok(read) => {
                assert!(
                    buf[..read].starts_with(b"HTTP/1.1 503 "),
                    "{}",
                    String::from_utf8_lossy(&buf[..read])
                );
                shed += 1;
            }
            Err(_) => shed += 1,
        }
    }
    stop.send_replace(true);
    let mut latencies = good.await.expect("the good client ran");
    drop(idle);

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(proxy.id() as i32), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    let mut summary = String::new();
    out.read_to_string(&mut summary).expect("the summary");
    let _ = proxy.wait();

    // The good client's connection holds one place under the cap.
    assert_eq!((held, shed), (CAP - 1, IDLE - CAP + 1), "held and shed");
    assert!(summary.contains(&format!("\"shed\":{}", IDLE - CAP + 1)), "{summary}");
    latencies.sort();
    assert!(latencies.len() >= 20, "{} good requests", latencies.len());
    let slowest = *latencies.last().expect("one at least");
    assert!(slowest < BOUND, "the slowest good request took {slowest:?}");
}
