//! LiteLLM graded end to end: the quick suite against the gateway tier's pinned `litellm[proxy]`
//! (`tests/fixtures/scorecard/litellm.yaml`, started once for the suite, a 5 s timeout), every
//! dimension with a scenario graded (none inconclusive), the grades its behaviour earns, and
//! every run's figures agreeing with the mocks' own counters.

use crate::{
    gateways::install,
    support::{chaos_in_env, root},
};

#[test]
fn litellm_is_graded_on_the_quick_suite_and_its_figures_agree_with_the_mocks() {
    install("gateway-venv", "scenarios/gateways/requirements.txt");
    let out = tempfile::tempdir().expect("a temporary folder");
    let folder = out.path().display().to_string();
    let path = format!(
        "{}:{}",
        root().join("target/gateway-venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let target = "tests/fixtures/scorecard/litellm.yaml";
    let started = std::time::Instant::now();
    let (code, stdout, stderr) =
        chaos_in_env(&["scorecard", "--target", target, "--quick", "--out", &folder], &[("PATH", &path)]);
    let wall = started.elapsed().as_secs_f64();
    let markdown = std::fs::read_to_string(out.path().join("scorecard.md"))
        .unwrap_or_else(|error| panic!("no scorecard.md ({error}), exit {code}: {stdout}\n{stderr}"));
    println!("{markdown}\nwall time {wall:.1} s");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("scorecard.json")).unwrap()).unwrap();
    let rows = card["dimensions"].as_array().expect("dimensions");
    let grade =
        |id: &str| rows.iter().find(|row| row["id"] == id).map(|row| row["grade"].as_str().unwrap()).unwrap();

    for row in rows.iter().filter(|row| row["id"] != "key_exhaustion") {
        assert_ne!(row["grade"], "inconclusive", "{}: {}\n{markdown}", row["id"], row["reason"]);
    }
    // LiteLLM waits as a retry-after asks, but retries an insufficient_quota 429 (num_retries: 2)
    // and keeps a failing primary in the chain: what its pinned release does.
    assert_eq!(grade("retry_after"), "A", "{markdown}");
    assert_eq!(grade("quota"), "F", "{markdown}");
    assert_eq!(grade("chain_retries"), "A", "(1 + 2) × 2 attempts at most: {markdown}");

    // Each run: every request an upstream's mock counted was served (2xx) through its
    // interposer, but for attempts that ended otherwise without a fault (the gateway hung up
    // on its timeout after the mock had the request): those bound the difference.
    for row in rows.iter().filter(|row| row["report"].is_string()) {
        let report = out.path().join(row["report"].as_str().unwrap());
        let results = std::fs::read_to_string(report.with_file_name("results.json")).expect("results.json");
        let results: chaos::results::Results = serde_json::from_str(&results).expect("results read");
        let unfaulted_failures: u64 =
            results
                .phases
                .iter()
                .flat_map(|phase| {
                    phase.attempt_statuses.iter().filter(|(status, _)| !status.starts_with('2')).map(
                        |(status, n)| n - phase.injected_statuses.get(status).copied().unwrap_or(0).min(*n),
                    )
                })
                .sum();
        for (index, upstream) in results.upstreams.iter().enumerate() {
            let served: u64 =
                results.phases.iter().filter_map(|phase| phase.served_by.get(&upstream.name)).sum();
            let counted = crate::gateways::received(&results, index);
            assert!(
                served <= counted && counted <= served + unfaulted_failures,
                "{}: `{}` served {served}, its mock counted {counted}, {unfaulted_failures} attempts failed unfaulted",
                row["id"],
                upstream.name
            );
        }
    }
}
