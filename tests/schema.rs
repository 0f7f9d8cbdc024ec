//! The results contract: `schemas/results.v<N>.json` is exactly what `chaos schema results`
//! prints, and the schema rejects a results file of the wrong shape. (Every results file the
//! suite's runs write is validated in `support::run_until`.)

use crate::support::{assert_schema_committed, run_until, schema_errors};

#[test]
fn the_committed_results_schema_is_what_chaos_schema_results_prints() {
    let file = chaos::results::results_schema_file();
    let schema = assert_schema_committed(
        "results",
        &file,
        "the results types",
        " (and bump SCHEMA_VERSION in src/results/mod.rs if a field changed meaning or disappeared)",
    );
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

const SHORT: &str = r#"
name: schema-negative
upstreams: { openai: { mock: openai } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases: [{ name: only, duration: 1s }]
expect: [availability >= 99%]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_file_of_the_wrong_shape_fails_validation() {
    let (report, _reports) = run_until(SHORT, std::future::pending()).await;
    let text = std::fs::read(report.folder.join("results.json")).expect("results.json written");
    let valid: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    assert_eq!(schema_errors(&valid), Vec::<String>::new(), "run_until validated it already");

    let cases: [(&str, serde_json::Value, &str); 4] = [
        (
            "/overall/successes",
            "many".into(),
            "at \"/overall/successes\": \"many\" is not of type \"integer\"",
        ),
        ("/verdict", "maybe".into(), "at \"/verdict\""),
        ("/schema_version", 1.into(), "at \"/schema_version\""),
        ("/expectations/0/metric/kind", "p99".into(), "at \"/expectations/0/metric\""),
    ];
    for (pointer, wrong, expected) in cases {
        let mut results = valid.clone();
        *results.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} in {valid}")) = wrong;
        let errors = schema_errors(&results);
        assert!(errors.iter().any(|error| error.starts_with(expected)), "{pointer}: {errors:?}");
    }
    let mut missing = valid.clone();
    missing["generator"].as_object_mut().expect("an object").remove("kept_up");
    let errors = schema_errors(&missing);
    assert!(errors.iter().any(|error| error.contains("\"kept_up\" is a required property")), "{errors:?}");
}
