//! The library's cross-family gateway scenario, `scenarios/gateways/litellm-cross-family.yaml`,
//! run as a user runs it (`chaos run`, LiteLLM on the `PATH` from the gateway tier's venv):
//! LiteLLM's fallbacks carry requests from OpenAI to an Azure OpenAI deployment, to Bedrock's
//! Converse (SigV4-signed by botocore) and to Gemini, each mock behind its own interposer. The
//! figures must agree with the mocks' own counters, every hop must follow the chain's order,
//! and Bedrock's answers must be billed at Bedrock's price.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{
    gateways::{install, received},
    support::{chaos_in_env, root},
};

/// The chain, in the order of the scenario's upstreams and of LiteLLM's `fallbacks`.
const CHAIN: [&str; 4] = ["openai", "azure", "bedrock", "gemini"];

/// Each attempt of the run's journal: (logical id, upstream index, outcome), in journal order.
fn journal_attempts(folder: &std::path::Path) -> Vec<(u64, usize, String)> {
    let journal = std::fs::read_to_string(folder.join("journal.ndjson")).expect("journal.ndjson");
    journal
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a journal line"))
        .filter(|entry| entry["kind"] == "attempt")
        .map(|entry| {
            let id = entry["logical_id"].as_u64().expect("correlated: LiteLLM forwarded the tag");
            let upstream = entry["upstream"].as_u64().expect("an upstream") as usize;
            (id, upstream, entry["outcome"].as_str().expect("an outcome").to_owned())
        })
        .collect()
}

#[test]
fn litellm_falls_back_from_openai_through_azure_to_bedrock_and_gemini_as_the_mocks_count() {
    install("gateway-venv", "scenarios/gateways/requirements.txt");
    let reports = tempfile::tempdir().expect("a folder for the run");
    let path = format!(
        "{}:{}",
        root().join("target/gateway-venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let scenario = "scenarios/gateways/litellm-cross-family.yaml";
    let folder = reports.path().to_string_lossy().into_owned();
    let (code, stdout, stderr) =
        chaos_in_env(&["run", scenario, "--reports", &folder], &[("PATH", path.as_str())]);
    assert_eq!(code, 0, "every expectation of the scenario holds:\n{stdout}\n{stderr}");
    let run = std::fs::read_dir(reports.path()).unwrap().next().expect("a run folder").unwrap().path();
    let results: chaos::results::Results =
        serde_json::from_slice(&std::fs::read(run.join("results.json")).unwrap()).expect("results");
    let outage = &results.phases[1];
    assert_eq!(outage.availability, Some(1.0), "{:?}", outage.outcomes);
    assert_eq!(results.overall.uncorrelated_attempts, 0, "the tag reached every hop");

    // Each upstream's mock answered exactly the attempts the run says it served, every one a 2xx:
    // the 503s and 429s were the interposers', and never reached a mock.
    for (index, name) in CHAIN.iter().enumerate() {
        assert_eq!(results.upstreams[index].name, *name);
        let served: u64 = results.phases.iter().filter_map(|phase| phase.served_by.get(*name)).sum();
        let rows = results.upstreams[index].received.as_array().expect("the mock's rows").clone();
        let statuses: Vec<&Value> = rows.iter().map(|row| &row["statuses"]).collect();
        assert!(
            statuses.iter().all(|s| s.as_object().unwrap().keys().all(|k| k.starts_with('2'))),
            "{statuses:?}"
        );
        assert_eq!(received(&results, index), served, "`{name}`: {rows:?}");
    }

    // Attempt by attempt, the journal agrees: each upstream's 2xx count is its mock's, and every
    // request of the outage went down the chain in order, failing at each hop but its last.
    let attempts = journal_attempts(&run);
    for (index, name) in CHAIN.iter().enumerate() {
        let ok =
            attempts.iter().filter(|(_, upstream, outcome)| *upstream == index && outcome == "200").count();
        assert_eq!(ok as u64, received(&results, index), "`{name}`'s 2xx attempts");
    }
    let mut hops: BTreeMap<u64, Vec<(usize, &str)>> = BTreeMap::new();
    for (id, upstream, outcome) in &attempts {
        hops.entry(*id).or_default().push((*upstream, outcome));
    }
    let mut walked_to = [0u64; 4];
    for (id, hops) in &hops {
        let (last, failed) = hops.split_last().expect("an attempt");
        let order: Vec<usize> = hops.iter().map(|(upstream, _)| *upstream).collect();
        assert_eq!(order, (0..hops.len()).collect::<Vec<_>>(), "request {id} went down the chain: {hops:?}");
        assert!(failed.iter().all(|(_, outcome)| *outcome != "200") && last.1 == "200", "{id}: {hops:?}");
        walked_to[last.0] += 1;
    }
    assert!(walked_to[1] > 0 && walked_to[3] > 0, "Azure and Gemini served some: {walked_to:?}");
    let injected = |status: &str| -> u64 {
        results.phases.iter().filter_map(|phase| phase.injected_statuses.get(status)).sum()
    };
    let failed_at =
        |index: usize| attempts.iter().filter(|(_, u, o)| *u == index && o != "200").count() as u64;
    assert_eq!(failed_at(0), injected("503"), "only OpenAI answered 503");
    assert_eq!(failed_at(1) + failed_at(2), injected("429"), "Azure and Bedrock throttled");
    assert_eq!(failed_at(3), 0, "Gemini, the chain's end, never failed");

    // Bedrock really served, and was billed at its own price: claude-3-5-haiku on Bedrock, $0.80
    // and $4.00 a million tokens, not the primary's gpt-4o-mini.
    let bedrock = &results.upstreams[2].received.as_array().expect("rows")[0];
    assert_eq!(bedrock["model"], "anthropic.claude-3-5-haiku-20241022-v1:0");
    assert!(bedrock["statuses"]["200"].as_u64().unwrap_or(0) > 0, "Bedrock answered: {bedrock}");
    let price = |model: &str| {
        let applied = results.prices.iter().find(|price| price.model == model).expect(model);
        (applied.input_usd_per_million.unwrap(), applied.output_usd_per_million.unwrap())
    };
    assert_eq!(price("anthropic.claude-3-5-haiku-20241022-v1:0"), (0.80, 4.00));
    // The run's cost is the mocks' own token counts at each model's price, to the cent's millionth.
    let billed: f64 = results
        .upstreams
        .iter()
        .flat_map(|u| u.received.as_array().unwrap().clone())
        .map(|row| {
            let (input, output) = price(row["model"].as_str().unwrap());
            (row["prompt_tokens"].as_f64().unwrap() * input + row["output_tokens"].as_f64().unwrap() * output)
                / 1e6
        })
        .sum();
    let cost: f64 = results.phases.iter().filter_map(|phase| phase.cost_usd).sum();
    assert!(
        (cost - billed).abs() < 1e-9,
        "the run billed ${cost}, the mocks' counts at their prices ${billed}"
    );
    assert_eq!(results.overall.incomplete_streams, 0, "every stream, Gemini's too, ended whole");
}
