//! `chaos merge` through the binary, on two real runs of one scenario made side by side, each
//! one shard of its load (`--shard K/2`): counts add up exactly, percentiles are those of one
//! histogram holding both runs' values, the figures, expectations and verdict are computed
//! again, the renderings are written; runs that differ are refused, exit 2, and so are
//! replicas of one load unless `--replicas` says so.

use chaos::{
    metrics::{hdr_base64, Percentiles},
    results::Results,
};
use serde_json::Value;

use crate::support::{assert_valid_results, chaos, run_binary_with, BinaryRun};

/// An OpenAI primary falling back to Anthropic while it answers every attempt with a 503.
const SPREAD: &str = r#"
name: spread
seed: 9
upstreams:
  openai: { mock: openai }
  anthropic: { mock: anthropic }
target:
  builtin: { upstream: openai, fallbacks: [anthropic], retries: 0 }
load:
  arrival: { rate: 20/s, process: poisson }
  request: { model: gpt-4o-mini, prompt_tokens: 50, max_tokens: 5 }
phases:
  - { name: baseline, duration: 2s }
  - name: outage
    duration: 2s
    faults:
      openai: [{ status: 503 }]
  - { name: recovery, duration: 2s }
expect:
  - availability >= 99%
  - time_to_failover{phase=outage} <= 1s
"#;

fn results_path(run: &BinaryRun) -> String {
    run.run_folder().join("results.json").to_string_lossy().into_owned()
}

/// The histogram `name` of phase `phase`, decoded from a results document's tallies.
fn histogram(results: &Value, phase: usize, name: &str) -> hdrhistogram::Histogram<u32> {
    let text = results["tallies"]["phases"][phase][name].as_str().expect("an encoded histogram");
    hdr_base64::decode(text).expect("decodes")
}

#[test]
fn two_real_runs_merge_into_the_figures_of_their_union() {
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| run_binary_with(SPREAD, &["--shard", "0/2"]));
        let b = scope.spawn(|| run_binary_with(SPREAD, &["--shard", "1/2"]));
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    let (one, two) = (a.results(), b.results());
    assert_eq!(one["scenario"]["shard"], serde_json::json!({ "index": 0, "count": 2 }));
    assert!(a.stdout.contains("(shard 0/2 of the load: 1/2 of it)"), "{}", a.stdout);
    // Each shard played half the plan's 20/s over 6 s, from arrivals of its own.
    for shard in [&one, &two] {
        let sent = shard["overall"]["logical_requests"].as_u64().unwrap();
        assert!((30..=95).contains(&sent), "{sent} requests in a shard");
    }
    let out = tempfile::tempdir().expect("temp dir");
    let out_dir = out.path().join("merged");
    let (code, stdout, stderr) = chaos(&[
        "merge",
        &results_path(&a),
        &results_path(&b),
        "-o",
        out_dir.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("merged 2 runs"), "{stdout}");
    assert!(stdout.contains("Merged from 2 shards of 2 of the load"), "{stdout}");
    for name in ["results.json", "junit.xml", "summary.md", "report.html"] {
        assert!(out_dir.join(name).is_file(), "{name} written");
    }
    assert_valid_results(&out_dir.join("results.json"));
    let merged: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).expect("read")).expect("JSON");

    // Counts add up exactly, phase by phase.
    for phase in 0..3 {
        let sum = |field: &str| {
            one["phases"][phase][field].as_u64().unwrap() + two["phases"][phase][field].as_u64().unwrap()
        };
        for field in
            ["logical_requests", "successes", "failures", "attempts", "injected", "billed_input_tokens"]
        {
            assert_eq!(merged["phases"][phase][field].as_u64(), Some(sum(field)), "{field} of phase {phase}");
        }
        // Percentiles are those of one histogram holding both runs' values.
        for (name, figure) in
            [("latency", "latency_ms"), ("ttft", "ttft_ms"), ("service_time", "service_time_ms")]
        {
            let mut union = histogram(&one, phase, name);
            union.add(histogram(&two, phase, name)).expect("adds");
            let expected = serde_json::to_value(Percentiles::of(&union)).expect("JSON");
            assert_eq!(merged["phases"][phase][figure], expected, "{figure} of phase {phase}");
            assert_eq!(histogram(&merged, phase, name), union);
        }
    }
    let served =
        |results: &Value, upstream: &str| results["phases"][1]["served_by"][upstream].as_u64().unwrap_or(0);
    assert_eq!(served(&merged, "anthropic"), served(&one, "anthropic") + served(&two, "anthropic"));
    // Traffic first moved in the merge when it first moved in either run.
    let failover =
        |results: &Value| results["phases"][1]["time_to_failover_s"].as_f64().expect("failed over");
    let earliest = failover(&one).min(failover(&two));
    assert!((failover(&merged) - earliest).abs() < 1e-6, "{} against {earliest}", failover(&merged));
    assert!(earliest < 0.2, "the outage's first request failed over at once: {earliest}");
    // Each request's time to fail over merges exactly, as the other histograms do.
    let failovers = |results: &Value| {
        hdr_base64::decode(results["tallies"]["phases"][1]["gaps"]["failover"].as_str().expect("encoded"))
            .expect("decodes")
    };
    let mut union = failovers(&one);
    union.add(failovers(&two)).expect("adds");
    assert!(union.len() > 20, "{} failovers", union.len());
    assert_eq!(
        merged["phases"][1]["failover_ms"],
        serde_json::to_value(Percentiles::of(&union)).expect("JSON")
    );
    assert_eq!(merged["phases"][1]["failovers"].as_u64(), Some(union.len()));
    assert_eq!(merged["phases"][2]["time_to_recover_s"], 1.0);
    let statuses: Vec<&Value> =
        merged["expectations"].as_array().unwrap().iter().map(|c| &c["status"]).collect();
    assert_eq!(statuses, ["pass", "pass"]);
    assert_eq!(merged["verdict"], "pass");
    assert_eq!(merged["merged_from"].as_array().map(Vec::len), Some(2));
    let sent = |results: &Value| results["generator"]["sent"].as_u64().unwrap();
    assert_eq!(sent(&merged), sent(&one) + sent(&two));

    // What the tallies add to a results file: six encoded histograms and a few counters a phase.
    let bytes = |results: &Value| serde_json::to_vec_pretty(&results["tallies"]).unwrap().len();
    let per_phase = bytes(&one) / 3;
    eprintln!("tallies: {} bytes, {per_phase} bytes a phase", bytes(&one));
    assert!(per_phase < 4_000, "{per_phase} bytes a phase");

    // A run of another seed, or of another scenario text, is refused and named.
    let other_seed = out.path().join("other-seed.json");
    let mut changed = two.clone();
    changed["scenario"]["seed"] = 10.into();
    std::fs::write(&other_seed, serde_json::to_vec(&changed).unwrap()).unwrap();
    let (code, _, stderr) = chaos(&["merge", &results_path(&a), other_seed.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not the same seed as") && stderr.contains("`10` here, `9` there"), "{stderr}");
    let other_text = out.path().join("other-text.json");
    let mut changed = two.clone();
    let source = changed["scenario"]["source"].as_str().unwrap().replace("rate: 20/s", "rate: 40/s");
    changed["scenario"]["source"] = source.into();
    std::fs::write(&other_text, serde_json::to_vec(&changed).unwrap()).unwrap();
    let (code, _, stderr) = chaos(&["merge", &results_path(&a), other_text.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not the same scenario text") && stderr.contains("rate: 40/s"), "{stderr}");
    // Two runs of one shard are replicas of one sample: refused, unless `--replicas` says so.
    let (code, _, stderr) = chaos(&["merge", &results_path(&a), &results_path(&a)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("both played shard 0/2 of the load, with the same seed: replicas"), "{stderr}");
    // The merged file merges again, as a replica of itself: every count doubles.
    let merged_path = out_dir.join("results.json");
    let again = out.path().join("again");
    let merged_path = merged_path.to_str().unwrap();
    let (code, _, stderr) = chaos(&["merge", merged_path, merged_path]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("both played all of the load"), "{stderr}");
    let (code, stdout, stderr) =
        chaos(&["merge", "--replicas", merged_path, merged_path, "-o", again.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("replicas (the same arrivals and fault draws)"), "{stdout}");
    let twice = Results::read(&again.join("results.json")).expect("merged results");
    assert_eq!(
        Some(twice.overall.logical_requests),
        merged["overall"]["logical_requests"].as_u64().map(|n| 2 * n)
    );
}

#[test]
fn validate_summarises_a_shard_and_refuses_a_shard_that_does_not_exist() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/brownout.yaml");
    let (code, stdout, stderr) = chaos(&["validate", file, "--shard", "2/3"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(shard 2/3 of the load: 1/3 of it)"), "{stdout}");
    let (code, _, stderr) = chaos(&["validate", file, "--shard", "3/3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("shards of 3 are numbered 0 to 2"), "{stderr}");
}
