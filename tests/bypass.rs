//! A gateway that goes around the interposers (a wrong base URL) used to get PASS, exit 0, with
//! zero attempts under a 100 % 503 phase. Now the preflight stops such a run before its clock
//! starts (exit 3, with the address to use), `chaos check` says the same alone, and a run that
//! skips the preflight is still INVALID (exit 3) for a phase no request reached an interposer in.

use chaos::{
    mock::{MockBuilder, MockHandle},
    wire::ApiFamily,
};

use crate::support::{chaos, run_binary, run_binary_with};

/// A scenario whose `url` target is `target` (and whose `openai` interposer listens on `listen`),
/// with a 100 % 503 phase.
fn scenario(target: &str, listen: &str) -> String {
    format!(
        r#"
name: bypass
upstreams: {{ openai: {{ mock: openai, listen: "{listen}" }} }}
target: {{ url: "http://{target}" }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: gpt-4o-mini, max_tokens: 2 }} }}
phases:
  - {{ name: healthy, duration: 1s }}
  - name: outage
    duration: 1s
    faults:
      openai: [{{ status: 503 }}]
expect:
  - availability >= 99%
"#
    )
}

/// The stand-in gateway: a mock of the provider itself, reached directly, as a gateway whose
/// base URL names the provider instead of the interposer would reach it.
async fn provider() -> MockHandle {
    MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("a stand-in provider")
}

/// A loopback address no one listens on now.
fn free_address() -> String {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("its address").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_stops_a_target_that_goes_around_the_interposers() {
    let provider = provider().await;
    let interposer = free_address();
    let yaml = scenario(&provider.addr.to_string(), &interposer);
    let run = tokio::task::spawn_blocking(move || run_binary(&yaml)).await.expect("the run");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let expected = [
        "invalid: preflight failed: 0 of 3 probe requests sent through the target reached an interposer \
         (the target answered 200, 200, 200); the target goes around the interposers",
        "They were expected at upstream `openai`, the primary.",
        &format!("OPENAI_BASE_URL=http://{interposer}/v1"),
        "Nothing was run.",
    ];
    for line in expected {
        assert!(run.stderr.contains(line), "`{line}` missing from:\n{}", run.stderr);
    }
    assert_eq!(provider.counters().requests(), 3, "the probes alone went to the stand-in, no load");
    let written = std::fs::read_dir(&run.reports).expect("reports").flatten().map(|entry| entry.path());
    assert!(written.into_iter().all(|folder| !folder.join("results.json").exists()), "nothing measured");

    let (code, stdout, stderr) = chaos(&["check", &run.scenario]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("interposer for upstream `openai` (openai): http://{interposer}")),
        "{stdout}"
    );
    assert!(stderr.contains("0 of 3 probe requests"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_the_preflight_is_still_invalid_when_no_request_reached_an_interposer() {
    let provider = provider().await;
    let yaml = scenario(&provider.addr.to_string(), "127.0.0.1:0");
    let run = tokio::task::spawn_blocking(move || run_binary_with(&yaml, &["--no-preflight"]))
        .await
        .expect("the run");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Invalid: in phase outage, 20 requests were sent but none reached an interposer"),
        "{}",
        run.stdout
    );
    let results = run.results();
    assert_eq!(results["verdict"], "invalid");
    assert_eq!(results["phases"][1]["attempts"], 0);
    assert_eq!(results["phases"][1]["availability"], 1.0, "the stand-in answered every request");
    assert_eq!(results["preflight"], serde_json::Value::Null, "skipped");
    let summary = std::fs::read_to_string(run.run_folder().join("summary.md")).expect("summary.md");
    assert!(summary.contains("none reached an interposer"), "{summary}");
}

/// A health check as a gateway sends its own: a generation request with no correlation id,
/// straight to `interposer`, every 100 ms until `done`.
fn health_checks(
    interposer: String,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"ping"}],"max_tokens":1}"#;
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: {interposer}\r\nauthorization: Bearer sk-health\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if let Ok(mut stream) = std::net::TcpStream::connect(&interposer) {
                let _ = stream.write_all(request.as_bytes());
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
    })
}

/// A target that is the interposer itself (a gateway as thin as can be) passes the preflight;
/// its probes are kept out of everything the run measures and of what the run's mock counts,
/// and the target's own id-less requests (health checks) are counted apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_that_reach_the_interposers_pass_and_are_not_measured() {
    let interposer = free_address();
    let yaml = scenario(&interposer, &interposer);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checks = health_checks(interposer.clone(), std::sync::Arc::clone(&done));
    let run = tokio::task::spawn_blocking(move || run_binary(&yaml)).await.expect("the run");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    checks.join().expect("the health checks");
    assert!(
        run.stdout.contains("preflight: 3/3 probes through the target reached the interposers (`openai`)"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let results = run.results();
    let preflight = &results["preflight"];
    assert_eq!(
        (preflight["probes"].as_u64(), preflight["reached"].as_u64()),
        (Some(3), Some(3)),
        "{preflight}"
    );
    assert_eq!(preflight["reached_upstreams"], serde_json::json!(["openai"]));
    assert_eq!(preflight["ids_forwarded"], true);
    assert_eq!(results["overall"]["logical_requests"], 40, "20/s for 2 s, no probe");
    assert_eq!(results["overall"]["attempts"], 40, "each request once at the interposer, no probe");
    let uncorrelated = results["overall"]["uncorrelated_attempts"].as_u64().expect("a count");
    assert!(uncorrelated >= 5, "health checks every 100 ms over 2 s: {uncorrelated}");
    assert!(
        run.stdout.contains(&format!("{uncorrelated} attempts reached the interposers without")),
        "{}",
        run.stdout
    );
    let healthy_checks = results["phases"][0]["uncorrelated_attempts"].as_u64().expect("a count");
    let received: u64 = results["upstreams"][0]["received"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["requests"].as_u64().expect("a count"))
        .sum();
    assert_eq!(
        received,
        20 + healthy_checks,
        "the run's mock saw the healthy phase and its checks, no probe"
    );

    let (code, stdout, stderr) = chaos(&["check", &run.scenario]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("preflight: 3/3 probes"), "{stdout}");
}

/// A gateway that refuses the key the load presents is told as such, not sent to fix its base URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_refuses_the_key_is_named_as_such() {
    let gateway = MockBuilder::new(ApiFamily::OpenAi).keys(vec!["sk-the-right-one".into()]).spawn().await;
    let gateway = gateway.expect("a gateway that checks keys");
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("refused.yaml");
    std::fs::write(&file, scenario(&gateway.addr.to_string(), "127.0.0.1:0")).expect("written");
    let file = file.to_string_lossy().into_owned();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || chaos(&["check", &file])).await.expect("check");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stderr.contains("(the target answered 401, 401, 401); the target refused the key"), "{stderr}");
    assert!(!stderr.contains("goes around"), "{stderr}");
}
