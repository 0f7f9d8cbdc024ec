//! How many concurrent streams one mock process holds on time.
//!
//! Starts `chaos mock` as its own process (so its RSS is its own), opens N concurrent streaming
//! chat completions at a given speed, and measures, in this process, the gap between
//! consecutive content events against the intended 1/speed. Prints the inter-token error
//! percentiles as this client saw them, the mock's own lateness (from `/_chaos/timing`: when
//! each event was written minus when it was due), the mock's peak RSS and both processes' CPU.
//!
//! `cargo bench --bench mock_streams -- [streams] [tokens_per_second] [tokens_per_stream]`
//! (defaults: 2000 50 100). The error is measured by a client on the same machine, so it
//! includes the client's own scheduling noise: an upper bound on the mock's. To keep the two
//! apart on a 2-core machine: `MOCK_CPU=0 taskset -c 1 target/release/deps/mock_streams-…`.

use std::{
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// User + system CPU seconds a process has used so far (from `/proc/<pid>/stat`).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let streams = arg(1, 2000);
    let speed = arg(2, 50);
    let tokens = arg(3, 100);
    // MOCK_CPU=0 pins the mock to core 0 (`taskset`); run this bench under `taskset -c 1` so the
    // measuring client does not compete with it.
    let mut mock = match std::env::var("MOCK_CPU") {
        Ok(cpu) => {
            let mut command = Command::new("taskset");
            command.args(["-c", &cpu, env!("CARGO_BIN_EXE_chaos")]);
            command
        }
        Err(_) => Command::new(env!("CARGO_BIN_EXE_chaos")),
    };
    let mut mock = mock
        .args(["mock", "--openai", "127.0.0.1:0", "--tokens-per-second", &speed.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("chaos mock starts");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(mock.stdout.take().expect("stdout")), &mut line)
        .expect("address line");
    let addr =
        line.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).expect("address").to_owned();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let errors =
        Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram")));
    let expected_gap = Duration::from_secs_f64(1.0 / speed as f64);
    let started = Instant::now();
    let received = runtime.block_on(async {
        let client = chaos::net::http_client::<Full<Bytes>>();
        let body = Bytes::from(format!(
            r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{tokens}}}"#
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for index in 0..streams {
            // Spread the opening over a second so the accept queue never overflows.
            tokio::time::sleep_until(tokio::time::Instant::from_std(
                started + Duration::from_micros(index * 1_000_000 / streams),
            ))
            .await;
            let (client, body, errors, addr) = (client.clone(), body.clone(), Arc::clone(&errors), addr.clone());
            tasks.spawn(async move {
                let request = http::Request::post(format!("http://{addr}/v1/chat/completions"))
                    .header("authorization", "Bearer sk-bench")
                    .body(Full::new(body))
                    .expect("request");
                let Ok(response) = client.request(request).await else { return 0 };
                let mut body = response.into_body();
                let mut previous: Option<Instant> = None;
                let mut gaps = Vec::with_capacity(tokens as usize);
                let mut count = 0u64;
                while let Some(Ok(frame)) = body.frame().await {
                    let Ok(data) = frame.into_data() else { continue };
                    let now = Instant::now();
                    let contents = data.windows(11).filter(|w| *w == br#""content":""#).count();
                    let empty = data.windows(12).filter(|w| *w == br#""content":"""#).count();
                    for _ in 0..contents.saturating_sub(empty) {
                        if let Some(previous) = previous {
                            gaps.push(now.duration_since(previous));
                        }
                        previous = Some(now);
                        count += 1;
                    }
                }
                let mut errors = errors.lock().expect("histogram");
                for gap in gaps {
                    let error = gap.abs_diff(expected_gap);
                    let _ = errors.record((error.as_micros() as u64).max(1));
                }
                count
            });
        }
        let mut total = 0;
        while let Some(count) = tasks.join_next().await {
            total += count.unwrap_or(0);
        }
        let timing = http::Request::get(format!("http://{addr}{}", chaos::mock::TIMING_PATH))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let timing = client.request(timing).await.expect("timing").into_body().collect().await.expect("body");
        (total, serde_json::from_slice::<serde_json::Value>(&timing.to_bytes()).unwrap_or_default())
    });
    let (received, timing) = received;
    let elapsed = started.elapsed();
    let rss = peak_rss_mb(mock.id());
    let (mock_cpu, client_cpu) = (cpu_seconds(&mock.id().to_string()), cpu_seconds("self"));
    let _ = mock.kill();
    let _ = mock.wait();
    let errors = errors.lock().expect("histogram");
    let ms = |q: f64| errors.value_at_quantile(q) as f64 / 1000.0;
    println!("mock_streams: {streams} streams × {tokens} tokens at {speed} tokens/s, {elapsed:.1?} wall");
    println!(
        "  events received: {received} of {} ({:.2} %)",
        streams * tokens,
        100.0 * received as f64 / (streams * tokens) as f64
    );
    println!(
        "  inter-token error (|gap − {:.1} ms|): p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
        expected_gap.as_secs_f64() * 1e3,
        ms(0.5),
        ms(0.99),
        ms(0.999),
        errors.max() as f64 / 1000.0
    );
    println!(
        "  mock-side lateness (write − due): p50 {} ms  p99 {} ms  p99.9 {} ms  max {} ms over {} events",
        timing["p50_ms"], timing["p99_ms"], timing["p999_ms"], timing["max_ms"], timing["events"]
    );
    println!("  mock peak RSS: {rss:.1} MB");
    println!(
        "  CPU: mock {mock_cpu:.2} s, measuring client {client_cpu:.2} s, over {:.1} s",
        elapsed.as_secs_f64()
    );
}
