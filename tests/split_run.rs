//! A split run on loopback, as it runs in a cluster: the upstreams role (`--role upstreams
//! --shards 2`) and two load shards (`--role load --shard K/2`), three processes, one
//! `results.json` written by the upstreams role with every shard's requests joined to its
//! attempts by correlation id; and a shard with the wrong token refused.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::free_port;

/// An OpenAI mock answering half the attempts of the second phase with a 503; no retries, so
/// every request is one attempt.
const SPLIT: &str = r#"
name: split
seed: 5
upstreams:
  openai: { mock: openai }
target:
  builtin: { retries: 0 }
load: { arrival: { rate: 40/s, process: poisson }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: calm, duration: 2s }
  - { name: rough, duration: 2s, faults: { openai: [{ status: 503, probability: 50% }] } }
expect:
  - availability{phase=calm} >= 90%
"#;

const TOKEN: &str = "split-run-token";

/// Starts `chaos` with `args` and the control token in its environment.
fn start(args: &[&str], token: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .env("CHAOS_CONTROL_TOKEN", token)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chaos starts")
}

/// Waits for `child` at most `bound`, killing it past that; its exit code and output.
fn finish(mut child: Child, bound: Duration) -> (i32, String, String) {
    let deadline = Instant::now() + bound;
    while child.try_wait().expect("waits").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("output");
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

/// The upstreams role's report.html once it serves it (within a minute), status line first.
fn fetch_report(control: &str) -> Option<String> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = std::net::TcpStream::connect(control).ok().and_then(|mut stream| {
            let request = format!(
                "GET /split/results/report.html HTTP/1.1\r\nHost: {control}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).ok()?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).ok()?;
            Some(answer)
        });
        match answer {
            Some(answer) if answer.starts_with("HTTP/1.1 200") => return Some(answer),
            _ if Instant::now() > deadline => return None,
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[test]
fn two_load_shards_and_the_upstreams_role_write_one_run_joined_by_correlation_id() {
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("split.yaml");
    std::fs::write(&scenario, SPLIT).expect("scenario written");
    let scenario = scenario.to_str().expect("a UTF-8 path");
    let reports = folder.path().join("reports");
    let listen = format!("openai=127.0.0.1:{}", free_port());
    let control = format!("127.0.0.1:{}", free_port());
    let coordinator_url = format!("http://{control}");
    let upstreams = start(
        &[
            "run",
            scenario,
            "--role",
            "upstreams",
            "--shards",
            "2",
            "--listen",
            &listen,
            "--control",
            &control,
            "--keep-serving",
            "--reports",
            reports.to_str().expect("a UTF-8 path"),
        ],
        TOKEN,
    );
    let shard = |index: &str, token: &str| {
        let shard = format!("{index}/2");
        let args = [
            "run",
            scenario,
            "--role",
            "load",
            "--shard",
            &shard,
            "--coordinator",
            &coordinator_url,
            "--listen",
            &listen,
        ];
        start(&args, token)
    };
    // A shard without the token is refused at its check-in, and takes no part.
    let (code, _, stderr) = finish(shard("1", "not-the-token"), Duration::from_secs(30));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("refused shard 1/2: 401"), "{stderr}");
    let shards = [shard("0", TOKEN), shard("1", TOKEN)];
    let mut handed_over = 0;
    for shard in shards {
        let (code, stdout, stderr) = finish(shard, Duration::from_secs(60));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let requests: usize = stdout
            .lines()
            .find_map(|line| {
                line.split_once(": ")?
                    .1
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
                    .filter(|_| line.contains("handed over"))
            })
            .unwrap_or_else(|| panic!("a shard's last line: {stdout}"));
        assert!((40..=130).contains(&requests), "{requests} requests from a shard at 20/s for 4 s");
        handed_over += requests;
    }
    // With --keep-serving, the upstreams role stays up serving its results until SIGTERM.
    let Some(report) = fetch_report(&control) else {
        panic!("no report served: {:?}", finish(upstreams, Duration::ZERO));
    };
    assert!(
        report.starts_with("HTTP/1.1 200") && report.contains("<html"),
        "{}",
        &report[..report.len().min(300)]
    );
    let _ = Command::new("kill").args(["-TERM", &upstreams.id().to_string()]).status();
    let (code, stdout, stderr) = finish(upstreams, Duration::from_secs(60));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("waiting for 2 load shard(s) to check in"), "{stdout}");
    let results_path = stdout
        .lines()
        .find_map(|line| line.strip_prefix("results: "))
        .unwrap_or_else(|| panic!("a results line: {stdout}"));
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(results_path).expect("results.json")).expect("JSON");
    // Every request of both shards, each joined to its one attempt at the interposer.
    assert_eq!(results["overall"]["logical_requests"].as_u64(), Some(handed_over as u64));
    assert_eq!(results["overall"]["attempts"], results["overall"]["logical_requests"]);
    assert_eq!(results["overall"]["uncorrelated_attempts"].as_u64(), Some(0));
    assert_eq!(results["generator"]["threads"].as_u64(), Some(2), "one load thread in each shard");
    // A request meant for the calm phase's last instants may reach the interposer in the next.
    let calm = results["phases"][0]["availability"].as_f64().expect("availability");
    assert!(calm > 0.9, "the calm phase had no fault: {calm}");
    let rough = results["phases"][1]["availability"].as_f64().expect("availability");
    assert!((0.2..0.8).contains(&rough), "half the rough phase's attempts got a 503: {rough}");
    assert_eq!(results["phases"][1]["attempts"], results["phases"][1]["logical_requests"]);
    assert_eq!(results["verdict"], "pass");
}
