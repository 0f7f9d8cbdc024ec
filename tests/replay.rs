//! The journal and `--replay`, through the binary: a run journals every attempt with its fault
//! decision (keys only as `key-N`); a run of the same scenario under another seed, replaying that
//! journal, makes exactly the same decisions — while the other seed alone makes different ones.

use std::collections::BTreeMap;

use crate::support::{run_binary, run_binary_with, BinaryRun};

/// Two probabilistic faults and a retry: decisions a seed draws, and a second attempt only
/// where the first failed.
fn scenario(seed: u64) -> String {
    format!(
        r#"
name: replay
seed: {seed}
upstreams: {{ openai: {{ mock: openai, keys: 2 }} }}
target: {{ builtin: {{ retries: 1, backoff: naive }} }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: gpt-4o-mini, max_tokens: 5 }} }}
phases:
  - name: flaky
    duration: 3s
    faults:
      openai:
        - {{ latency: 20ms, probability: 50% }}
        - {{ status: 503, probability: 40% }}
"#
    )
}

/// Each journaled attempt's decision, by upstream and draw key.
fn decisions(run: &BinaryRun) -> BTreeMap<(u64, u64), Vec<u64>> {
    let text = std::fs::read_to_string(run.run_folder().join("journal.ndjson")).expect("journal.ndjson");
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().expect("a run line")).expect("JSON");
    assert_eq!(header["kind"], "run");
    lines
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("an attempt line"))
        .map(|attempt| {
            assert!(!attempt.to_string().contains("sk-chaos"), "a key in the journal: {attempt}");
            let key = attempt["draw_key"].as_u64().expect("every attempt is named");
            let rules =
                attempt["rules"].as_array().expect("rules").iter().filter_map(|r| r.as_u64()).collect();
            ((attempt["upstream"].as_u64().expect("upstream"), key), rules)
        })
        .collect()
}

#[test]
fn a_replay_makes_the_journaled_decisions_whatever_the_seed() {
    let original = run_binary(&scenario(1));
    assert_ne!(original.code, 2, "{}", original.stderr);
    let recorded = decisions(&original);
    let attempts = original.results()["overall"]["attempts"].as_u64().expect("attempts");
    assert_eq!(recorded.len() as u64, attempts, "one journal line per attempt");
    assert_eq!(original.results()["journal"]["dropped"], 0);
    assert!(
        recorded.values().any(|rules| rules.contains(&1)) && recorded.values().any(|rules| rules.is_empty())
    );

    let journal = original.run_folder().join("journal.ndjson");
    let replayed = run_binary_with(&scenario(2), &["--replay", &journal.to_string_lossy()]);
    assert_ne!(replayed.code, 2, "{}", replayed.stderr);
    let stats = &replayed.results()["replay"];
    assert_eq!(stats["misses"], 0, "{stats}");
    assert_eq!(decisions(&replayed), recorded, "the replay decided otherwise");

    // The test could fail: the other seed alone decides differently.
    let reseeded = run_binary(&scenario(2));
    assert_ne!(decisions(&reseeded), recorded);
}

#[test]
fn a_journal_of_another_scenario_is_refused_before_anything_starts() {
    let original = run_binary(&scenario(1).replace("duration: 3s", "duration: 1s"));
    let journal = original.run_folder().join("journal.ndjson");
    let other = scenario(1).replace("name: flaky", "name: shaky");
    let refused = run_binary_with(&other, &["--replay", &journal.to_string_lossy()]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("a journal of `replay` (upstreams openai; phases flaky)"),
        "{}",
        refused.stderr
    );
    assert!(std::fs::read_dir(&refused.reports).is_err(), "nothing should have started");
}

/// The journal is the per-attempt record a postmortem reads: each line says when its answer's
/// head, first token and end went back, its size, whether it completed, and the tokens billed —
/// reported, or estimated for a cut stream — and the run line maps upstreams to zones.
#[test]
fn every_journaled_attempt_carries_its_timings_size_tokens_and_zone() {
    let run = run_binary(
        r#"
name: journal-fields
upstreams: { openai: { mock: openai, zone: eu-1, latency: { ttft: 30ms, tokens_per_second: 200 } } }
load: { arrival: { rate: 10/s }, request: { model: gpt-4o-mini, stream: true, max_tokens: 8 } }
phases:
  - { name: whole, duration: 1s }
  - name: cut
    duration: 1s
    faults: { openai: [{ cut: { after_events: 4 } }] }
"#,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(run.run_folder().join("journal.ndjson")).expect("journal.ndjson");
    let mut lines = text.lines().map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"));
    let header = lines.next().expect("a run line");
    assert_eq!(header["zones"], serde_json::json!(["eu-1"]));
    let attempts: Vec<serde_json::Value> = lines.collect();
    assert!(attempts.len() >= 15, "{} attempts", attempts.len());
    for attempt in &attempts {
        let ms = |name: &str| attempt[name].as_f64().unwrap_or_else(|| panic!("no {name}: {attempt}"));
        let (ttfb, ttft, duration) = (ms("ttfb_ms"), ms("ttft_ms"), ms("duration_ms"));
        assert!(ttft >= 30.0, "the mock's TTFT is 30 ms: {attempt}");
        assert!(ttfb <= ttft && ttft <= duration, "{attempt}");
        assert!(attempt["bytes"].as_u64().expect("bytes") > 100, "{attempt}");
        assert_eq!(attempt["input_tokens"].as_u64().map(|n| n > 0), Some(true), "{attempt}");
        let (completed, estimated) = (attempt["completed"] == true, attempt["tokens_estimated"] == true);
        if attempt["phase"] == 0 {
            assert!(completed && !estimated, "a whole stream reports its usage: {attempt}");
            assert_eq!(attempt["output_tokens"], 8);
        } else {
            assert!(!completed && estimated, "a cut stream is incomplete, its tokens estimated: {attempt}");
            assert_eq!(attempt["output_tokens"], 3, "role + 3 content events before the cut: {attempt}");
        }
    }
}
