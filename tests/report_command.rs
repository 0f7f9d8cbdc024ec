//! `chaos report`: junit.xml and summary.md rendered again from a real run's results.json,
//! through the binary, byte for byte what the run wrote; and a bad file is named, exit 2.

use std::path::Path;

use crate::support::{chaos, run_until};

/// Three expectations: one holds, one fails, and one is inconclusive (the 1 s outage has only
/// ten requests).
const MIXED: &str = r#"
name: report-rerender
seed: 3
upstreams: { openai: { mock: openai } }
target: { builtin: { retries: 0 } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: healthy, duration: 2s }
  - { name: down, duration: 1s, faults: { openai: [{ status: 503 }] } }
expect:
  - availability{phase=healthy} >= 99%
  - burn_rate{phase=down} < 14.4
  - burn_rate < 14.4
"#;

const RENDERINGS: [&str; 3] = ["junit.xml", "summary.md", "report.html"];

fn read(folder: &Path, name: &str) -> String {
    std::fs::read_to_string(folder.join(name)).unwrap_or_else(|e| panic!("{name} in {folder:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_renders_what_the_run_wrote_byte_for_byte() {
    let (report, _reports) = run_until(MIXED, std::future::pending()).await;
    let folder = &report.folder;
    let written: Vec<String> = RENDERINGS.iter().map(|name| read(folder, name)).collect();
    // The run's own renderings: 20 healthy requests pass; the 1 s outage (10 requests) is too
    // short for a verdict; over the run a third failed, a burn rate of 333.
    let junit = &written[0];
    assert!(junit.contains(r#"tests="3" failures="1" errors="0" skipped="1""#), "{junit}");
    assert!(junit.contains(r#"<failure message="observed 333.33, expected burn_rate &lt; 14.4""#), "{junit}");
    assert!(junit.contains(r#"<skipped message="inconclusive: 10 requests"#), "{junit}");
    assert!(written[1].starts_with("## ❌ chaos: `report-rerender` — FAIL\n"), "{}", written[1]);

    let results = folder.join("results.json").to_string_lossy().into_owned();
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) = chaos(&["report", &results, "--out", &elsewhere.path().to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("junit.xml") && stdout.contains("summary.md"), "{stdout}");
    for (name, original) in RENDERINGS.iter().zip(&written) {
        assert_eq!(&read(elsewhere.path(), name), original, "{name} differs");
    }

    // Without --out, next to results.json.
    for name in RENDERINGS {
        std::fs::remove_file(folder.join(name)).expect("removed");
    }
    let (code, _, stderr) = chaos(&["report", &results]);
    assert_eq!(code, 0, "{stderr}");
    for (name, original) in RENDERINGS.iter().zip(&written) {
        assert_eq!(&read(folder, name), original, "{name} differs");
    }
}

#[test]
fn an_unreadable_or_invalid_results_file_exits_2_naming_it() {
    let folder = tempfile::tempdir().expect("temp dir");
    let garbage = folder.path().join("results.json");
    std::fs::write(&garbage, "{ \"schema_version\": 1, \"verdict\": ").expect("written");
    let missing = folder.path().join("missing/results.json");
    for (file, problem) in [(&garbage, "not a chaos results.json"), (&missing, "cannot read the results")] {
        let file = file.to_string_lossy().into_owned();
        let (code, stdout, stderr) = chaos(&["report", &file]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.starts_with(&format!("error: {file}: {problem}")), "{stderr}");
    }
    let left: Vec<_> =
        std::fs::read_dir(folder.path()).expect("readable").map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["results.json"], "nothing rendered from a bad file");
}

/// A results file of the previous schema version (a real run's, frozen in `tests/fixtures`)
/// still renders: the fields added since read as empty.
#[test]
fn a_results_file_of_schema_version_1_still_renders() {
    let fixture = crate::support::root().join("tests/fixtures/results.v1.json");
    let v1_schema: serde_json::Value =
        serde_json::from_str(&read(&crate::support::root(), "schemas/results.v1.json")).expect("JSON");
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).expect("the fixture")).expect("JSON");
    let validator = jsonschema::validator_for(&v1_schema).expect("the v1 schema compiles");
    let errors: Vec<String> = validator.iter_errors(&document).map(|e| e.to_string()).collect();
    assert_eq!(errors, Vec::<String>::new(), "the fixture is a v1 file");

    let out = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) =
        chaos(&["report", &fixture.to_string_lossy(), "--out", &out.path().to_string_lossy()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("report.html"), "{stdout}");
    let html = read(out.path(), "report.html");
    assert!(html.contains("schema v1"), "the report names the version it was rendered from");
}
