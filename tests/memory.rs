//! Memory follows the run, not the plan (issue 25): a run stopped early in a year-long plan —
//! by Ctrl-C, by `/stop` on the control API, by `abort_on_fail`, or a library scenario slowed to
//! the slowest speed accepted — holds and writes what the seconds it ran need, and writes every
//! file. Its figures cover the time that ran: the phases it never reached last nothing.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};

use crate::support::{http, root, run_binary, LiveBinary};

/// A year of phases (the longest plan accepted) with a steady load on a mocked upstream.
const YEAR: &str = r#"
name: year
upstreams: { openai: { mock: openai } }
target: { builtin: { retries: 0 } }
load: { arrival: { rate: 20/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: baseline, duration: 1d }
  - name: outage
    duration: 363d
    faults: { openai: [{ status: 503, probability: 10% }] }
  - { name: recovery, duration: 1d }
slo: { availability: 99.9%, period: 30d }
expect:
  - availability >= 99%
"#;

/// The most a stopped run may hold at its peak (a debug build idles at about 40 MB).
const MOST_RSS_KB: u64 = 100 * 1024;
/// The most a stopped run's `results.json` may weigh.
const MOST_RESULTS_BYTES: u64 = 2 * 1024 * 1024;

/// The process's peak resident set so far (`VmHWM`), kB; `None` once it has exited.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// What a run stopped by Ctrl-C left: its exit code, its peak RSS and its run folder.
struct Stopped {
    code: Option<i32>,
    peak_rss_kb: u64,
    folder: PathBuf,
    _reports: tempfile::TempDir,
}

/// Runs `chaos run SCENARIO --reports DIR OPTIONS`, sends SIGINT `after` its start, and watches
/// its peak RSS every 10 ms until it exits.
fn interrupted_after(scenario: &Path, options: &[&str], after: Duration) -> Stopped {
    let reports = tempfile::tempdir().expect("temp dir");
    let mut chaos = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .arg("run")
        .arg(scenario)
        .arg("--reports")
        .arg(reports.path())
        .args(options)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chaos starts");
    let started = Instant::now();
    let mut peak = 0;
    let mut signalled = false;
    let status = loop {
        if let Some(status) = chaos.try_wait().expect("waitable") {
            break status;
        }
        peak = peak_rss_kb(chaos.id()).unwrap_or(0).max(peak);
        if !signalled && started.elapsed() >= after {
            let pid = Pid::from_raw(i32::try_from(chaos.id()).expect("a pid"));
            nix::sys::signal::kill(pid, Signal::SIGINT).expect("SIGINT sent");
            signalled = true;
        }
        if started.elapsed() > after + Duration::from_secs(60) || peak > 20 * MOST_RSS_KB {
            let _ = chaos.kill();
            let _ = chaos.wait();
            panic!("the stopped run did not end within a minute, or held {peak} kB");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let folder = std::fs::read_dir(reports.path())
        .expect("reports")
        .next()
        .expect("a run folder")
        .expect("an entry")
        .path();
    Stopped { code: status.code(), peak_rss_kb: peak, folder, _reports: reports }
}

/// Every file a run writes is in `folder`, and `results.json` is small and valid.
fn assert_small_and_complete(folder: &Path) -> serde_json::Value {
    for file in ["results.json", "junit.xml", "summary.md", "report.html", "journal.ndjson"] {
        assert!(folder.join(file).is_file(), "no {file} in {}", folder.display());
    }
    let results = folder.join("results.json");
    let bytes = std::fs::metadata(&results).expect("results.json").len();
    assert!(bytes < MOST_RESULTS_BYTES, "results.json is {bytes} bytes");
    let report = std::fs::metadata(folder.join("report.html")).expect("report.html").len();
    assert!(report < MOST_RESULTS_BYTES, "report.html is {report} bytes");
    crate::support::assert_valid_results(&results);
    serde_json::from_slice(&std::fs::read(&results).expect("results.json")).expect("JSON")
}

/// The figures cover the `most` seconds or fewer that ran, not the planned year.
fn assert_covers_what_ran(results: &serde_json::Value, most: f64) {
    let ran = results["overall"]["duration_s"].as_f64().expect("a duration");
    assert!(ran > 0.0 && ran < most, "the run's figures cover {ran} s");
    let burn = results["burn_timeline"].as_array().expect("a burn timeline").len();
    assert!(burn as f64 <= most, "{burn} burn points");
    assert_eq!(results["timeline_step_s"], 1, "a short run keeps every second");
    assert!(results["overall"]["logical_requests"].as_u64() > Some(0), "nothing recorded");
}

fn scenario_file(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("year.yaml");
    std::fs::write(&path, yaml).expect("scenario written");
    (folder, path)
}

#[test]
fn a_year_long_plan_stopped_by_ctrl_c_after_3_s_holds_under_100_mb_and_writes_every_file() {
    let (_folder, scenario) = scenario_file(YEAR);
    let run = interrupted_after(&scenario, &[], Duration::from_secs(3));
    assert_eq!(run.code, Some(130), "interrupted");
    assert!(run.peak_rss_kb < MOST_RSS_KB, "peak RSS {} kB", run.peak_rss_kb);
    let results = assert_small_and_complete(&run.folder);
    assert_covers_what_ran(&results, 10.0);
    assert_eq!(results["phases"][1]["duration_s"], 0.0, "the outage never started");
}

#[test]
fn brownout_at_the_slowest_speed_stopped_after_3_s_holds_under_100_mb() {
    // 80 s of phases stretched to 356 days, within the 365 a plan may last.
    let scenario = root().join("scenarios/brownout.yaml");
    let run = interrupted_after(&scenario, &["--speed", "0.0000026"], Duration::from_secs(3));
    assert_eq!(run.code, Some(130), "interrupted");
    assert!(run.peak_rss_kb < MOST_RSS_KB, "peak RSS {} kB", run.peak_rss_kb);
    assert_covers_what_ran(&assert_small_and_complete(&run.folder), 10.0);
}

#[test]
fn an_emergency_stop_of_a_year_long_plan_writes_results_for_the_seconds_that_ran() {
    let mut run = LiveBinary::start(YEAR, &["--control", "127.0.0.1:0"]);
    let control = run.line_after("control: http://").trim_end_matches('/').to_owned();
    std::thread::sleep(Duration::from_secs(2));
    let json = ("content-type", "application/json");
    let (code, body) = http(&control, "POST", "/stop", &[json], r#"{"reason":"memory test"}"#);
    assert_eq!(code, 202, "{body}");
    assert_eq!(run.wait(), 4, "halted");
    let results = assert_small_and_complete(&run.run_folder());
    assert_eq!(results["verdict"], "halted");
    assert_covers_what_ran(&results, 30.0);
}

#[test]
fn abort_on_fail_in_a_year_long_plan_writes_results_for_the_seconds_that_ran() {
    let yaml = r#"
name: abort-in-a-year
upstreams: { openai: { mock: openai } }
target: { builtin: { retries: 0 } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: calm, duration: 2s }
  - { name: down, duration: 2s, faults: { openai: [{ status: 503 }] } }
  - { name: after, duration: 364d }
abort_on_fail: true
expect:
  - availability{phase=down} >= 99%
"#;
    let run = run_binary(yaml);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let results = assert_small_and_complete(&run.run_folder());
    assert_covers_what_ran(&results, 30.0);
    let after = results["phases"][2]["duration_s"].as_f64().expect("a duration");
    assert!(after < 26.0, "`after` ran {after} s of its 364 days");
}
