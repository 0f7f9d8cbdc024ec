//! The scenario format's JSON Schema, for editors: `schemas/scenario.json` is exactly what
//! `chaos schema scenario` prints, every library scenario names it on its first line and
//! validates against it, and a typo'd key or a malformed unit fails it as it fails the parser.

use std::path::Path;

use chaos::scenario::SCENARIO_SCHEMA_FILE;
use serde_json::Value;

use crate::support::{assert_schema_committed, root, scenario_files, scenario_schema_errors};

/// The line the YAML language server reads a file's schema from, less the path.
const MODELINE: &str = "# yaml-language-server: $schema=";

/// The library's scenarios, at least as many as it holds today (so no check passes on none).
fn library() -> Vec<std::path::PathBuf> {
    let files = scenario_files(&root().join("scenarios"));
    assert!(files.len() >= 15, "expected the library's scenarios, found {files:?}");
    files
}

/// A scenario's YAML as the JSON value a schema validator reads.
fn as_json(yaml: &str, origin: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{origin}: {e}"))
}

#[test]
fn the_committed_scenario_schema_is_what_chaos_schema_scenario_prints() {
    let schema = assert_schema_committed("scenario", SCENARIO_SCHEMA_FILE, "the raw scenario types", "");
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["additionalProperties"], false, "deny_unknown_fields at the top level");
}

#[test]
fn every_library_scenario_names_the_schema_on_its_first_line() {
    let schema = root().join(SCENARIO_SCHEMA_FILE).canonicalize().expect("the committed schema");
    for path in library() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let relative = first.strip_prefix(MODELINE).unwrap_or_else(|| {
            panic!(
                "{}: the first line should be `{MODELINE}<path to {SCENARIO_SCHEMA_FILE}>`",
                path.display()
            )
        });
        let named = path.parent().expect("a folder").join(relative);
        let resolved = named.canonicalize().unwrap_or_else(|e| panic!("{}: {relative}: {e}", path.display()));
        assert_eq!(resolved, schema, "{}: names {relative}", path.display());
    }
}

#[test]
fn every_library_scenario_validates_against_the_schema() {
    for path in library() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let errors = scenario_schema_errors(&as_json(&text, &path.to_string_lossy()));
        assert!(errors.is_empty(), "{}:\n{}", path.display(), errors.join("\n"));
    }
}

const SCENARIO: &str = r#"
name: typos
upstreams: { openai: { mock: openai } }
load:
  arrival: { rate: 20/s }
  request: { model: gpt-4o-mini, max_tokens: 5 }
phases:
  - name: slow
    duration: 1s
    faults:
      openai: [{ latency: 2s, probability: 30% }]
expect: [availability >= 99%]
"#;

#[test]
fn a_typo_or_a_malformed_unit_fails_the_schema_as_it_fails_the_parser() {
    let parses = |yaml: &str| chaos::scenario::parse(yaml, Path::new("typos.yaml")).is_ok();
    assert_eq!(scenario_schema_errors(&as_json(SCENARIO, "SCENARIO")), Vec::<String>::new());
    assert!(parses(SCENARIO), "the scenario before its typos is valid");
    // (what is written, what it becomes, what the schema's error says)
    let cases = [
        ("phases:", "phasez:", "'phasez' was unexpected"),
        ("latency: 2s", "latncy: 2s", "'latncy' was unexpected"),
        ("probability:", "probabilty:", "'probabilty' was unexpected"),
        ("request:", "reqest:", "'reqest' was unexpected"),
        ("mock: openai", "mock: openai, zon: a", "'zon' was unexpected"),
        ("rate: 20/s", "rate: 20/sec", r#"at "/load/arrival/rate": "20/sec" is not valid"#),
        ("duration: 1s", "duration: 1", r#"at "/phases/0/duration": 1 is not valid"#),
    ];
    for (written, typo, named) in cases {
        assert_eq!(SCENARIO.matches(written).count(), 1, "{written}");
        let yaml = SCENARIO.replace(written, typo);
        let errors = scenario_schema_errors(&as_json(&yaml, typo));
        assert!(errors.iter().any(|error| error.contains(named)), "{typo}: {errors:?}");
        assert!(!parses(&yaml), "{typo}: the parser accepts it, the schema should too");
    }
}
