//! Hostile sizes in what a user gives `chaos`: any positive finite `--speed` is played or
//! refused (exit 2, the same in `validate` and `run`), never a panic; a scenario file is read
//! through a size cap; an error on a very long line shows a window of it around the column.

use std::{
    io::Read,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

use crate::support::chaos;

/// Two seconds of phases, with faults whose durations a slowdown stretches too.
const SHORT: &str = r#"
name: stretched
upstreams: { openai: { mock: openai, latency: { ttft: 50ms, tokens_per_second: 50 } } }
target: { builtin: { retries: 2, timeout: 30s } }
load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini, max_tokens: 5 }, drain: 1s }
phases:
  - name: slow
    duration: 2s
    faults:
      openai: [{ status: 429, retry_after: 30d, probability: 50% }, { hang: 365d }]
slo: { availability: 99%, period: 365d }
expect:
  - p99 < 2s
"#;

/// The slowest speed at which SHORT's 2 s of phases fit in 365 days.
const SLOWEST: f64 = 2.0 / (365.0 * 86_400.0);

/// Speeds from the smallest positive float to the largest.
const SPEEDS: [&str; 14] = [
    "5e-324",
    "1e-300",
    "1e-18",
    "1e-17",
    "1e-9",
    "6.3e-8",
    "6.4e-8",
    "0.001",
    "0.5",
    "1",
    "60",
    "1e9",
    "1e300",
    "1.7976931348623157e308",
];

fn scenario_file() -> (tempfile::TempDir, String) {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("stretched.yaml");
    std::fs::write(&file, SHORT).expect("scenario written");
    let file = file.to_string_lossy().into_owned();
    (folder, file)
}

#[test]
fn every_positive_finite_speed_validates_or_is_refused_never_panics() {
    let (_folder, file) = scenario_file();
    for speed in SPEEDS {
        let (code, stdout, stderr) = chaos(&["validate", &file, "--speed", speed]);
        let too_slow = speed.parse::<f64>().unwrap() < SLOWEST;
        if too_slow {
            assert_eq!(code, 2, "--speed {speed}: {stdout}{stderr}");
            assert!(
                stderr.starts_with(&format!(
                    "error: --speed {}",
                    speed.parse::<chaos::speed::Speed>().unwrap()
                )) && stderr.contains("a plan may last at most 365 days as played")
                    && stderr.contains("the slowest speed for this one is 6.35e-8"),
                "--speed {speed}: {stderr}"
            );
        } else {
            assert_eq!(code, 0, "--speed {speed}: {stdout}{stderr}");
        }
    }
}

/// `chaos run FILE --speed F`, stopped by SIGINT after `after` if it is still going: its exit
/// code and stdout.
fn run_stopped(file: &str, speed: &str, after: Duration) -> (i32, String) {
    let reports = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["run", file, "--speed", speed, "--reports"])
        .arg(reports.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chaos starts");
    let started = Instant::now();
    while started.elapsed() < after && child.try_wait().expect("waitable").is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().expect("waitable").is_none() {
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, Signal::SIGINT).expect("signal sent");
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("--speed {speed}: the run did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("stdout read");
    (status.code().unwrap_or(-1), stdout)
}

#[test]
fn a_run_at_an_extreme_speed_is_refused_or_stops_cleanly_on_ctrl_c() {
    let (_folder, file) = scenario_file();
    // Refused before anything starts, as `validate` refuses them.
    for speed in ["5e-324", "1e-18", "1e-17", "6.3e-8"] {
        let (code, stdout) = run_stopped(&file, speed, Duration::from_secs(5));
        assert_eq!(code, 2, "--speed {speed}: {stdout}");
        assert!(!stdout.contains("running"), "--speed {speed} started: {stdout}");
    }
    // Played: stopped by Ctrl-C mid-run (the faults' 30-day retry-after and 365-day hang
    // stretched a thousandfold), or over at once (every duration shrunk to nothing).
    for (speed, codes) in [("0.001", [130, 130]), ("1e300", [0, 3]), ("1.7976931348623157e308", [0, 3])] {
        let (code, stdout) = run_stopped(&file, speed, Duration::from_millis(1500));
        assert!(codes.contains(&code), "--speed {speed}: exit {code}\n{stdout}");
        assert!(stdout.contains("results: "), "--speed {speed} wrote no results: {stdout}");
    }
}

#[test]
fn an_endless_scenario_file_is_refused_by_name_without_reading_it_all() {
    let started = Instant::now();
    let (code, stdout, stderr) = chaos(&["validate", "/dev/zero"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap_or_default(),
        "error: /dev/zero:1:1: the scenario is larger than 4 MiB, the most a scenario's file may hold"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn an_error_on_a_long_line_shows_200_characters_around_its_column() {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("long.yaml");
    let zone = "z".repeat(5_000);
    let yaml = format!(
        "name: long\nupstreams:\n  openai: {{ mock: openai, zone: {zone}, keys: 0, overloaded: 1% }}\nload: {{ arrival: {{ rate: 1/s }}, request: {{ model: m }} }}\nphases:\n  - {{ name: a, duration: 1s }}\n"
    );
    std::fs::write(&file, yaml).expect("scenario written");
    let (code, _, stderr) = chaos(&["validate", &file.to_string_lossy()]);
    assert_eq!(code, 2, "{stderr}");
    let column = "  openai: { mock: openai, zone: ".len() + zone.len() + ", keys: ".len() + 1;
    assert!(stderr.contains(&format!("long.yaml:3:{column}: `keys` must be 1 to 1000")), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let shown = lines[2].strip_prefix("3 | ").expect("the source line");
    let caret = lines[3].strip_prefix("  | ").expect("the caret line");
    assert!(shown.chars().count() <= 202, "{} characters shown", shown.chars().count());
    assert!(shown.starts_with('…') && shown.ends_with("overloaded: 1% }"), "{shown}");
    let under: String = shown.chars().skip(caret.chars().count() - 1).take(3).collect();
    assert_eq!(under, "0, ", "the caret is under the value:\n{shown}\n{caret}");
}
