//! Stopping `chaos run` from outside, as a person (Ctrl-C: SIGINT) or a CI runner or supervisor
//! (SIGTERM) would, while it drives a `command` target it started: exit 130, `results.json` and
//! `report.html` still written for what happened so far, and no process of the target left.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

/// A target the harness starts: Python's static file server (POSTs get a 501, which is fine
/// here), serving the run folder, so its command line names that folder.
const LONG_RUN: &str = r#"
name: signals
upstreams: { openai: { mock: openai } }
target:
  command: python3 -m http.server {{port}} --bind 127.0.0.1 --directory {{dir}}
  health: http://127.0.0.1:{{port}}/
  startup_timeout: 20s
  timeout: 5s
load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: long, duration: 10m }
expect:
  - availability >= 99%
"#;

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|line| line.contains(needle))
        .collect()
}

/// The run folder under `reports`, once it exists.
fn run_folder(reports: &Path, deadline: Instant) -> std::path::PathBuf {
    loop {
        if let Some(entry) = std::fs::read_dir(reports).ok().and_then(|mut dir| dir.next()) {
            return entry.expect("an entry").path();
        }
        assert!(Instant::now() < deadline, "no run folder appeared under {}", reports.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stopped_by(signal: Signal) {
    let folder = tempfile::tempdir().expect("temp dir");
    let scenario = folder.path().join("signals.yaml");
    std::fs::write(&scenario, LONG_RUN).expect("scenario");
    let reports = folder.path().join("reports");
    let mut chaos = Command::new(env!("CARGO_BIN_EXE_chaos"))
        // The target is a web server answering 501, not a gateway: no preflight.
        .args(["run".as_ref(), scenario.as_os_str(), "--reports".as_ref(), reports.as_os_str()])
        .arg("--no-preflight")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chaos starts");
    let run = run_folder(&reports, Instant::now() + Duration::from_secs(20));
    let needle = run.to_string_lossy().into_owned();
    // The target is up once its process exists; then let the load run a little.
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_mentioning(&needle).iter().all(|line| !line.contains("http.server")) {
        assert!(Instant::now() < deadline, "the target never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));

    let pid = Pid::from_raw(i32::try_from(chaos.id()).expect("a pid"));
    nix::sys::signal::kill(pid, signal).expect("signal sent");
    let stopped = Instant::now();
    let output = loop {
        if chaos.try_wait().expect("waitable").is_some() {
            break chaos.wait_with_output().expect("output");
        }
        assert!(stopped.elapsed() < Duration::from_secs(20), "chaos did not stop within 20 s of {signal}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let said =
        format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(130), "{signal}: {said}");
    for file in ["results.json", "report.html", "summary.md", "junit.xml"] {
        assert!(run.join(file).is_file(), "{signal}: no {file} in {}: {said}", run.display());
    }
    crate::support::assert_valid_results(&run.join("results.json"));
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("results.json")).expect("results")).expect("JSON");
    assert_eq!(
        (results["interrupted"].as_bool(), results["verdict"].as_str()),
        (Some(true), Some("interrupted"))
    );
    assert!(
        results["overall"]["logical_requests"].as_u64() > Some(0),
        "nothing was recorded before {signal}"
    );
    let left = processes_mentioning(&needle);
    assert!(left.is_empty(), "{signal}: the target's processes are still running: {left:?}");
}

#[test]
fn ctrl_c_stops_the_run_writes_what_happened_and_leaves_no_child() {
    stopped_by(Signal::SIGINT);
}

#[test]
fn sigterm_stops_the_run_the_same_way() {
    stopped_by(Signal::SIGTERM);
}
