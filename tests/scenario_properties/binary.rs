//! The property through the real binary, for a handful of cases: `chaos validate` exits 0
//! saying `ok:`, or 2 with `error: file:line:column:` first, never 101 (a panic), whatever the
//! file; and the hostile files the generators make (a billion laughs, a flood of aliases to a
//! long string, nesting past the parser's depth, a file cut inside a character) are refused
//! so, quickly.

use std::{path::Path, time::Instant};

use proptest::prelude::*;

use super::{
    cases,
    inputs::{document, mutated_scenario, Workspace},
    mutations::laughs,
    runner, TIME_BOUND,
};
use crate::support::{chaos, root};

/// Runs `chaos validate file` and asserts the exit and its first line; returns the exit and
/// the error's first line (empty on a pass).
fn validate(file: &Path) -> (i32, String) {
    let path = file.to_string_lossy();
    let started = Instant::now();
    let (code, stdout, stderr) = chaos(&["validate", &path]);
    let took = started.elapsed();
    assert!(took < TIME_BOUND * 2, "`chaos validate` took {took:?}");
    match code {
        0 => assert!(stdout.starts_with("ok: "), "exit 0 without `ok:`: {stdout}"),
        2 => {
            let first = stderr.lines().next().unwrap_or_default();
            let place = first.strip_prefix(&format!("error: {path}:")).unwrap_or_default();
            let mut parts = place.splitn(3, ':');
            let numbers = [parts.next(), parts.next()].map(|part| part.is_some_and(is_number));
            assert!(numbers == [true, true] && parts.next().is_some(), "not located: {stderr}");
        }
        other => panic!("exit {other} (101 is a panic):\n{stderr}"),
    }
    (code, stderr.lines().next().unwrap_or_default().to_owned())
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[test]
fn validate_exits_0_or_2_with_a_located_error_never_101() {
    let workspace = Workspace::new();
    let inputs = prop_oneof![mutated_scenario(), document()];
    let outcome = runner((cases(super::DEFAULT_CASES) / 100).max(12)).run(&inputs, |case| {
        validate(&workspace.write(&case));
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// `hard-down.yaml` with `from` replaced by `to`, written to `file` in a temporary folder.
fn hostile_hard_down(folder: &Path, from: &str, to: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/hard-down.yaml")).expect("the scenario");
    assert!(text.contains(from), "hard-down.yaml lacks `{from}`");
    let file = folder.join("hostile.yaml");
    std::fs::write(&file, text.replacen(from, to, 1)).expect("writable");
    file
}

#[test]
fn a_billion_laughs_in_a_request_body_is_refused_at_its_line_in_plain_words() {
    let folder = tempfile::tempdir().expect("temp dir");
    let body = format!("max_tokens: 20, body: {} }}", laughs(10, 10));
    let (code, first) = validate(&hostile_hard_down(folder.path(), "max_tokens: 20 }", &body));
    assert_eq!(code, 2);
    assert!(first.contains(":22:") && first.contains("values once its aliases"), "{first}");
}

#[test]
fn a_megabyte_long_metric_and_aliases_to_it_are_refused_quickly_in_a_short_first_line() {
    let folder = tempfile::tempdir().expect("temp dir");
    let long = "x".repeat(1 << 20);
    for aliases in [0, 10, 2_000] {
        let flood = format!("expect: [&s \"{long}\"{}]\n", ", *s".repeat(aliases));
        let file = hostile_hard_down(folder.path(), "expect:\n", &flood);
        let text = std::fs::read_to_string(&file).expect("readable");
        let cut = text.find(&flood).expect("the flood") + flood.len();
        std::fs::write(&file, &text[..cut]).expect("writable");
        let (code, first) = validate(&file);
        assert_eq!(code, 2);
        assert!(first.contains(":31:") && first.len() < 1_200, "{}", &first[..first.len().min(300)]);
        if aliases == 2_000 {
            assert!(first.contains("MiB of text once its aliases"), "{}", &first[..first.len().min(300)]);
        }
    }
}

#[test]
fn nesting_past_the_parser_s_depth_is_refused_at_its_line() {
    let folder = tempfile::tempdir().expect("temp dir");
    let deep = format!("max_tokens: 20, body: {}1{} }}", "[".repeat(300), "]".repeat(300));
    let (code, first) = validate(&hostile_hard_down(folder.path(), "max_tokens: 20 }", &deep));
    assert_eq!(code, 2);
    assert!(first.contains(":22:") && first.contains("nests deeper"), "{first}");
}

#[test]
fn a_file_cut_inside_a_character_is_refused_as_not_text() {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("cut.yaml");
    std::fs::write(&file, &"name: café".as_bytes()[..10]).expect("writable");
    let (code, first) = validate(&file);
    assert_eq!(code, 2);
    assert!(first.ends_with("cut.yaml:1:1: the scenario is not UTF-8 text"), "{first}");
}
