//! A split run on loopback, as it runs in a cluster: the upstreams role (`--role upstreams
//! --shards 3`) and three load shards (`--role load --shard K/3`), four processes, one
//! `results.json` written by the upstreams role with every shard's requests joined to its
//! attempts by correlation id, agreeing with a one-process run of the same rate; a shard with
//! the wrong token refused; a shard killed mid-run making the run invalid, named.

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

/// Starts `chaos` with `args` and these environment variables.
fn start(args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(args)
        .envs(env.iter().copied())
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

/// The addresses of one split run on loopback, and its scenario's file.
struct Split {
    _folder: tempfile::TempDir,
    scenario: String,
    reports: String,
    listen: String,
    control: String,
}

impl Split {
    fn new(yaml: &str) -> Self {
        let folder = tempfile::tempdir().expect("temp dir");
        let scenario = folder.path().join("split.yaml");
        std::fs::write(&scenario, yaml).expect("scenario written");
        let text = |path: std::path::PathBuf| path.to_str().expect("a UTF-8 path").to_owned();
        Split {
            scenario: text(scenario),
            reports: text(folder.path().join("reports")),
            listen: format!("openai=127.0.0.1:{}", free_port()),
            control: format!("127.0.0.1:{}", free_port()),
            _folder: folder,
        }
    }

    /// The upstreams role of `shards` shards, serving its results once written.
    fn upstreams(&self, shards: usize) -> Child {
        let shards = shards.to_string();
        let args = [
            "run",
            &self.scenario,
            "--role",
            "upstreams",
            "--shards",
            &shards,
            "--listen",
            &self.listen,
            "--control",
            &self.control,
            "--keep-serving",
            "--reports",
            &self.reports,
        ];
        start(&args, &[("CHAOS_CONTROL_TOKEN", TOKEN)])
    }

    /// Load shard `index` of `shards`, its index given as an Indexed Job gives it (the Job's
    /// `$(JOB_COMPLETION_INDEX)` in `--shard`, expanded by Kubernetes).
    fn shard(&self, index: usize, shards: usize, token: &str) -> Child {
        let (coordinator, index_text) = (format!("http://{}", self.control), index.to_string());
        let shard = format!("{index}/{shards}");
        let args = [
            "run",
            &self.scenario,
            "--role",
            "load",
            "--shard",
            &shard,
            "--coordinator",
            &coordinator,
            "--listen",
            &self.listen,
        ];
        start(&args, &[("CHAOS_CONTROL_TOKEN", token), ("JOB_COMPLETION_INDEX", &index_text)])
    }
}

/// The requests a shard said it handed over.
fn handed_over(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|line| line.contains("handed over"))
        .find_map(|line| line.split_once(": ")?.1.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("a shard's last line: {stdout}"))
}

/// The results a run printed the path of.
fn results_of(stdout: &str) -> serde_json::Value {
    let path = stdout
        .lines()
        .find_map(|line| line.strip_prefix("results: "))
        .unwrap_or_else(|| panic!("a results line: {stdout}"));
    serde_json::from_slice(&std::fs::read(path).expect("results.json")).expect("JSON")
}

/// The rough phase's availability and requests.
fn rough(results: &serde_json::Value) -> (f64, f64) {
    let phase = &results["phases"][1];
    (
        phase["availability"].as_f64().expect("availability"),
        phase["logical_requests"].as_f64().expect("count"),
    )
}

#[test]
fn three_load_shards_and_the_upstreams_role_write_one_run_joined_by_correlation_id() {
    let split = Split::new(SPLIT);
    let upstreams = split.upstreams(3);
    // A shard without the token is refused at its check-in, and takes no part.
    let (code, _, stderr) = finish(split.shard(1, 3, "not-the-token"), Duration::from_secs(30));
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("refused shard 1/3: 401"), "{stderr}");
    let shards: Vec<Child> = (0..3).map(|index| split.shard(index, 3, TOKEN)).collect();
    let mut sum = 0;
    for shard in shards {
        let (code, stdout, stderr) = finish(shard, Duration::from_secs(60));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        let requests = handed_over(&stdout);
        assert!((25..=90).contains(&requests), "{requests} requests from a shard at 13/s for 4 s");
        sum += requests;
    }
    // With --keep-serving, the upstreams role stays up serving its results until SIGTERM.
    let Some(report) = fetch_report(&split.control) else {
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
    assert!(stdout.contains("waiting for 3 load shard(s) to check in"), "{stdout}");
    let results = results_of(&stdout);
    // Every request of every shard, each joined to its one attempt at the interposer.
    assert_eq!(results["overall"]["logical_requests"].as_u64(), Some(sum as u64));
    assert_eq!(results["overall"]["attempts"], results["overall"]["logical_requests"]);
    assert_eq!(results["overall"]["uncorrelated_attempts"].as_u64(), Some(0));
    assert_eq!(results["generator"]["threads"].as_u64(), Some(3), "one load thread in each shard");
    // A request meant for the calm phase's last instants may reach the interposer in the next.
    let calm = results["phases"][0]["availability"].as_f64().expect("availability");
    assert!(calm > 0.9, "the calm phase had no fault: {calm}");
    assert_eq!(results["phases"][1]["attempts"], results["phases"][1]["logical_requests"]);
    assert_eq!(results["verdict"], "pass");
    // The same total rate in one process: the rough phase's availability within 3σ of the dose.
    let whole = crate::support::run_binary(SPLIT);
    assert_eq!(whole.code, 0, "{}", whole.stderr);
    let ((split_availability, n1), (whole_availability, n2)) = (rough(&results), rough(&whole.results()));
    let sigma = (0.25 * (1.0 / n1 + 1.0 / n2)).sqrt();
    assert!(
        (split_availability - whole_availability).abs() <= 3.0 * sigma,
        "{split_availability} split, {whole_availability} whole, σ {sigma}"
    );
}

#[test]
fn a_shard_killed_or_stopped_mid_run_makes_the_run_invalid_and_is_named() {
    let split = Split::new(&SPLIT.replace("max_tokens: 5 } }", "max_tokens: 5 }, drain: 1s }"));
    let upstreams = split.upstreams(3);
    let survivor = split.shard(0, 3, TOKEN);
    let stopped = split.shard(1, 3, TOKEN);
    let mut killed = split.shard(2, 3, TOKEN);
    // All check in and start (2 s after the last check-in); two leave in the calm phase: one
    // stopped by SIGTERM (it hands over what it measured), one killed (it hands nothing over).
    std::thread::sleep(Duration::from_secs(4));
    let _ = Command::new("kill").args(["-TERM", &stopped.id().to_string()]).status();
    killed.kill().expect("killed");
    let _ = killed.wait();
    let (code, stdout, stderr) = finish(stopped, Duration::from_secs(30));
    assert_eq!(code, 130, "stopped, its records handed over: {stdout}\n{stderr}");
    assert!(stdout.contains("handed over"), "{stdout}");
    let (code, stdout, stderr) = finish(survivor, Duration::from_secs(60));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // It waits out the drain and the hand-over's 20 s for the killed one, then serves its results.
    assert!(fetch_report(&split.control).is_some(), "the upstreams role wrote its results");
    let _ = Command::new("kill").args(["-TERM", &upstreams.id().to_string()]).status();
    let (code, stdout, stderr) = finish(upstreams, Duration::from_secs(30));
    assert_eq!(code, 3, "an invalid run's code: {stdout}\n{stderr}");
    let results = results_of(&stdout);
    assert_eq!(results["verdict"], "invalid", "{stdout}");
    let problems = results["generator"]["problems"].to_string();
    assert!(problems.contains("load shard(s) 2/3 handed no records over"), "{problems}");
    assert!(problems.contains("load shard(s) 1/3 were stopped before the end of their load"), "{problems}");
}
