//! `chaos scorecard compare` through the binary, on the two cards the `scorecard` module grades
//! for real (openai-python, then naive): the rows that must differ (naive worse on retry-after
//! and cut streams), the three formats, the exit code with `--fail-on-regression` both ways,
//! and cards that do not compare refused by their file's name.

use crate::{
    scorecard::{naive, openai_python},
    support::chaos,
};

/// `compare --format json` of `files` with `extra` flags: (exit code, the comparison, stderr).
fn compared(files: &[String], extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["scorecard", "compare", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = chaos(&args);
    let comparison =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (code, comparison, stderr)
}

fn dimension<'a>(comparison: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    let rows = comparison["dimensions"].as_array().expect("dimensions");
    rows.iter().find(|row| row["id"] == id).unwrap_or_else(|| panic!("no row {id}: {comparison}"))
}

#[test]
fn naive_after_openai_python_is_worse_on_retry_after_and_cut_streams_and_fails_on_regression() {
    let files = [openai_python().file(), naive().file()];
    let (code, comparison, stderr) = compared(&files, &[]);
    assert_eq!(code, 0, "no --fail-on-regression: exit 0 ({stderr})");
    let validator =
        jsonschema::validator_for(&chaos::scorecard::compare::comparison_schema()).expect("schema");
    let errors: Vec<String> = validator.iter_errors(&comparison).map(|e| e.to_string()).collect();
    assert_eq!(errors, Vec::<String>::new());

    for id in ["retry_after", "stream_cut"] {
        let row = dimension(&comparison, id);
        assert_eq!(row["cells"][0]["grade"], "A", "{row}");
        assert_eq!(row["cells"][1]["grade"], "F", "{row}");
        assert_eq!(row["change"], "worse", "{row}");
    }
    assert_eq!(dimension(&comparison, "quota")["cells"][1]["grade"], "F", "both retry a quota 429");
    let regressions = comparison["regressions"].as_array().expect("regressions");
    assert!(regressions.contains(&"retry_after".into()) && regressions.contains(&"stream_cut".into()));
    let labels: Vec<&str> =
        comparison["cards"].as_array().unwrap().iter().filter_map(|c| c["label"].as_str()).collect();
    assert_eq!(labels, ["builtin:openai-python", "builtin:naive"]);

    let (code, _, stderr) = compared(&files, &["--fail-on-regression"]);
    assert_eq!(code, 1, "naive regressed: {stderr}");
    assert!(stderr.contains("retry_after") && stderr.contains("stream_cut"), "{stderr}");

    // The other way round retry-after and cut streams got better; it fails only if some other
    // grade got worse, and then says which.
    let backwards = [files[1].clone(), files[0].clone()];
    let (code, comparison, stderr) = compared(&backwards, &["--fail-on-regression"]);
    assert_eq!(dimension(&comparison, "retry_after")["change"], "better");
    assert_eq!(dimension(&comparison, "stream_cut")["change"], "better");
    let regressed = comparison["regressions"].as_array().expect("regressions");
    assert_eq!(code, if regressed.is_empty() { 0 } else { 1 }, "{regressed:?} {stderr}");
}

#[test]
fn the_table_and_the_markdown_show_each_cards_grade_and_the_change() {
    let files = [openai_python().file(), naive().file()];
    let (code, table, stderr) = chaos(&["scorecard", "compare", &files[0], &files[1]]);
    assert_eq!(code, 0, "{stderr}");
    let line =
        table.lines().find(|line| line.starts_with("retry_after ★")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("A 100 %") && line.contains("F 0 %") && line.ends_with("▼ worse"), "{line}");
    assert!(table.lines().any(|line| line.starts_with("overall")), "{table}");

    let (code, markdown, stderr) = chaos(&["scorecard", "compare", "--format", "md", &files[0], &files[1]]);
    assert_eq!(code, 0, "{stderr}");
    assert!(markdown
        .contains("| dimension | builtin:openai-python | builtin:naive | change |\n|---|---|---|---|\n"));
    assert!(
        markdown.contains("| 429 with retry-after: retries wait as asked ★ | A 100 % | F 0 % | ▼ worse |"),
        "{markdown}"
    );
}

#[test]
fn cards_that_do_not_compare_are_refused_naming_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let row = serde_json::json!({
        "id": "retry_after", "title": "t", "critical": true, "grade": "A", "figure": 100.0,
        "unit": "%", "threshold": "", "reason": "",
    });
    let mut whole = serde_json::json!({
        "schema_version": 1, "harness_version": "0", "suite": "standard", "rubric_version": 1,
        "quick": true, "target": "t", "speed": 1.0, "started_at": "", "elapsed_s": 1.0,
        "overall": "A", "dimensions": [row],
    });
    let write = |name: &str, value: &serde_json::Value| {
        let path = folder.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.display().to_string()
    };
    let good = write("good.json", &whole);
    whole["rubric_version"] = 2.into();
    let other_rubric = write("other-rubric.json", &whole);
    whole["schema_version"] = 9.into();
    let future = write("future.json", &whole);

    let (code, _, stderr) = chaos(&["scorecard", "compare", &good, &future]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("future.json: a scorecard.json of schema version 9"), "{stderr}");
    let (code, _, stderr) = chaos(&["scorecard", "compare", &good, &other_rubric]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("other-rubric.json: suite standard rubric v2") && stderr.contains("--allow-mixed")
    );
    let (code, table, stderr) = chaos(&["scorecard", "compare", "--allow-mixed", &good, &other_rubric]);
    assert_eq!(code, 0, "{stderr}");
    assert!(table.contains("note: not like for like: ") && table.contains("other-rubric.json"), "{table}");
    let (code, _, stderr) = chaos(&["scorecard", "compare", &good]);
    assert_eq!(code, 2, "one card is no comparison: {stderr}");
}
