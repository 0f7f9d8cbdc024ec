//! Secrets written out in a scenario stay out of everything a run writes: a literal `sk-…` key
//! in a `command` target's `env:` and a `*-token` header's value are redacted in `results.json`'s
//! `scenario.source` and every other file of the run, and in what it prints; `chaos validate`
//! and `chaos run` warn of them on one line naming where; the runs still merge.

use std::path::Path;

use crate::support::{chaos, run_binary_with, BinaryRun};

const KEY: &str = "sk-live-0123456789abcdefSECRET";
const TOKEN: &str = "tok-9f8e7d6c5b4aSECRET";

/// A target the harness starts (Python's file server: POSTs get a 501, so no preflight), given
/// a literal key and token next to a value that is no secret.
const LITERAL_SECRETS: &str = r#"
name: literal-secrets
upstreams: { openai: { mock: openai } }
target:
  command: python3 -m http.server {{port}} --bind 127.0.0.1 --directory {{dir}}
  env: { OPENAI_API_KEY: sk-live-0123456789abcdefSECRET, GATEWAY_MODE: fast-lane }
  health: http://127.0.0.1:{{port}}/
  startup_timeout: 20s
load:
  arrival: { rate: 5/s }
  request: { model: gpt-4o-mini, max_tokens: 5, headers: { x-gateway-token: tok-9f8e7d6c5b4aSECRET } }
phases:
  - { name: only, duration: 1s }
"#;

/// Every file under `folder`, with its text.
fn files_under(folder: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).expect("readable")).into_owned();
            files.push((path.display().to_string(), text));
        }
    }
    files
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [KEY, TOKEN, "SECRET"] {
        assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
    }
}

fn run() -> BinaryRun {
    run_binary_with(LITERAL_SECRETS, &["--no-preflight"])
}

#[test]
fn literal_secrets_are_redacted_in_everything_a_run_writes_and_prints() {
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(run);
        let b = scope.spawn(run);
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    assert!(a.results()["phases"][0]["logical_requests"].as_u64() > Some(0), "{}", a.stderr);
    for run in [&a, &b] {
        assert_no_secret("stdout", &run.stdout);
        assert_no_secret("stderr", &run.stderr);
        let files = files_under(&run.run_folder());
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        for written in ["results.json", "report.html", "summary.md", "junit.xml", "journal.ndjson"] {
            assert!(names.iter().any(|name| name.ends_with(written)), "{written} not in {names:?}");
        }
        for (name, text) in &files {
            assert_no_secret(name, text);
        }
    }
    // One line on stderr, naming where each secret was written; the exit code is the run's.
    let warnings: Vec<&str> = a.stderr.lines().filter(|l| l.contains("literal secret")).collect();
    assert_eq!(warnings.len(), 1, "{}", a.stderr);
    assert!(
        warnings[0].starts_with(&format!("warning: {}:6:26: `OPENAI_API_KEY`", a.scenario)),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("(and at 11:77)"), "{}", warnings[0]);
    // The recorded text keeps the rest verbatim and still reads as a scenario.
    let source = a.results()["scenario"]["source"].as_str().expect("the scenario's text").to_owned();
    assert!(source.contains("env: { OPENAI_API_KEY: <redacted>, GATEWAY_MODE: fast-lane }"), "{source}");
    assert!(source.contains("headers: { x-gateway-token: <redacted> }"), "{source}");
    assert_eq!(source.lines().count(), LITERAL_SECRETS.lines().count());

    let out = tempfile::tempdir().expect("temp dir");
    let merged = out.path().join("merged");
    let results = |run: &BinaryRun| run.run_folder().join("results.json").to_string_lossy().into_owned();
    let (code, stdout, stderr) = chaos(&[
        "merge",
        "--replicas",
        &results(&a),
        &results(&b),
        "-o",
        merged.to_str().expect("a UTF-8 path"),
    ]);
    assert!(stdout.contains("merged 2 runs"), "exit {code}\n{stdout}\n{stderr}");
    assert_no_secret("the merge's output", &format!("{stdout}{stderr}"));
    for (name, text) in files_under(&merged) {
        assert_no_secret(&name, &text);
    }
}

#[test]
fn validate_warns_of_a_literal_secret_and_still_passes() {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("literal.yaml");
    std::fs::write(&file, LITERAL_SECRETS).expect("scenario written");
    let (code, stdout, stderr) = chaos(&["validate", file.to_str().expect("a UTF-8 path")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let expected =
        format!("warning: {}:6:26: `OPENAI_API_KEY` is a literal secret (and at 11:77)", file.display());
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains("`{{env.NAME}}`"), "{stderr}");
    assert_no_secret("stderr", &stderr);
}
