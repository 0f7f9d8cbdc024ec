//! Phases at wall-clock times, through the binary: a first phase with `at:` a few seconds ahead
//! waits for it, and a phase without a duration lasts until the next phase's `at:`.

use time::{format_description::well_known::Rfc3339, macros::format_description, OffsetDateTime};

use crate::support::run_binary;

#[test]
fn the_first_phase_waits_for_its_time_and_the_next_time_ends_it() {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).expect("whole seconds");
    let (first, second) = (now + time::Duration::seconds(4), now + time::Duration::seconds(6));
    let hms = format_description!("[hour]:[minute]:[second]");
    let scenario = format!(
        r#"
name: scheduled
upstreams: {{ openai: {{ mock: openai }} }}
load: {{ arrival: {{ rate: 10/s }}, request: {{ model: gpt-4o-mini, max_tokens: 5 }} }}
phases:
  - {{ name: warm, at: "{}" }}
  - {{ name: spike, at: "{}Z", duration: 1s }}
"#,
        first.format(hms).expect("formatted"),
        second.format(hms).expect("formatted"),
    );
    let run = run_binary(&scenario);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("waiting for the first phase's `at`"), "{}", run.stdout);
    let results = run.results();
    let started = OffsetDateTime::parse(results["phases_started_at"].as_str().expect("a time"), &Rfc3339)
        .expect("RFC 3339");
    let late = (started - first).as_seconds_f64();
    assert!((0.0..1.0).contains(&late), "the first phase started {late}s after its `at`");
    // `warm` lasted until `spike`'s time: two seconds.
    let phases = results["phases"].as_array().expect("phases");
    assert_eq!((phases[0]["duration_s"].as_f64(), phases[1]["start_s"].as_f64()), (Some(2.0), Some(2.0)));
    assert!(phases[0]["logical_requests"].as_u64() >= Some(19), "{}", phases[0]);
}

/// Ctrl-C while the run waits for its first phase's `at`: nothing was sent, so it stops at once,
/// says so, and exits as interrupted (130), not as a harness failure (70).
#[test]
fn ctrl_c_while_waiting_for_the_first_phase_exits_as_interrupted() {
    use std::io::{BufRead, BufReader};
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let scenario = format!(
        r#"
name: scheduled-later
upstreams: {{ openai: {{ mock: openai }} }}
load: {{ arrival: {{ rate: 10/s }}, request: {{ model: gpt-4o-mini, max_tokens: 5 }} }}
phases:
  - {{ name: later, at: "{}Z", duration: 1s }}
"#,
        later.format(format_description!("[hour]:[minute]:[second]")).expect("formatted"),
    );
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("later.yaml");
    std::fs::write(&path, scenario).expect("scenario");
    let mut chaos = std::process::Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["run".as_ref(), path.as_os_str(), "--reports".as_ref(), folder.path().join("r").as_os_str()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chaos starts");
    let stdout = BufReader::new(chaos.stdout.take().expect("stdout"));
    let waiting =
        stdout.lines().map_while(Result::ok).any(|line| line.contains("waiting for the first phase's `at`"));
    assert!(waiting, "chaos never said it was waiting");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(chaos.id()).expect("a pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("signal sent");
    let output = chaos.wait_with_output().expect("chaos ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
}
