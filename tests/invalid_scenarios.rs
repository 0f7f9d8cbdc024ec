//! The corpus of invalid scenarios in `tests/invalid/`: each must exit 2 from both `validate`
//! and `run`, name the exact `line:column` written in its first line (`# error: L:C text`),
//! say what is wrong, and start nothing.

use std::path::PathBuf;

use crate::support::{chaos, root};

struct Case {
    path: PathBuf,
    location: String,
    message: String,
}

fn corpus() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(root().join("tests/invalid"))
        .expect("tests/invalid exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable case");
            let header = text.lines().next().unwrap_or_default();
            let rest = header
                .strip_prefix("# error: ")
                .unwrap_or_else(|| panic!("{path:?} lacks `# error: L:C text`"));
            let (location, message) = rest.split_once(' ').unwrap_or((rest, ""));
            Case { path, location: location.to_owned(), message: message.to_owned() }
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

#[test]
fn the_corpus_has_at_least_ten_cases() {
    assert!(corpus().len() >= 10, "only {} invalid scenarios", corpus().len());
}

#[test]
fn validate_names_file_line_and_column_and_exits_2() {
    for case in corpus() {
        let file = case.path.to_string_lossy().into_owned();
        let (code, stdout, stderr) = chaos(&["validate", &file]);
        assert_eq!(code, 2, "{file}: exit {code}\n{stderr}");
        assert!(stdout.is_empty(), "{file}: printed to stdout: {stdout}");
        let first = stderr.lines().next().unwrap_or_default();
        let expected = format!("{file}:{}: ", case.location);
        assert!(
            first.starts_with(&format!("error: {expected}")),
            "{file}: expected `{expected}`, got:\n{stderr}"
        );
        assert!(first.contains(&case.message), "{file}: expected `{}` in:\n{first}", case.message);
        assert!(stderr.contains('^'), "{file}: no caret under the column:\n{stderr}");
    }
}

#[test]
fn run_refuses_an_invalid_scenario_before_starting_anything() {
    let reports = tempfile::tempdir().expect("temp dir");
    for case in corpus() {
        let file = case.path.to_string_lossy().into_owned();
        let (code, stdout, _) = chaos(&["run", &file, "--reports", &reports.path().to_string_lossy()]);
        assert_eq!(code, 2, "{file}");
        assert!(!stdout.contains("running"), "{file}: the run started");
    }
    let written = std::fs::read_dir(reports.path()).expect("readable").count();
    assert_eq!(written, 0, "an invalid scenario left a run folder");
}

#[test]
fn a_missing_file_is_an_invalid_scenario() {
    let (code, _, stderr) = chaos(&["validate", "tests/invalid/does-not-exist.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("does-not-exist.yaml:1:1: the scenario cannot be read"), "{stderr}");
}

#[test]
fn allow_remote_on_the_command_line_lets_a_remote_target_through_validation() {
    let file = root().join("tests/invalid/remote-url-target.yaml");
    let file = file.to_string_lossy();
    let (refused, _, _) = chaos(&["validate", &file]);
    let (allowed, stdout, stderr) = chaos(&["validate", "--allow-remote", &file]);
    assert_eq!((refused, allowed), (2, 0), "{stdout}{stderr}");
}
