//! Halt conditions and `--dry-run`, through the binary: a 100 % outage trips `error_rate > 50%`
//! within a second of the breach, every fault is removed at once (no injected attempt after the
//! halt), the run stops early and still writes its results, verdict `halted`, exit 4. The same
//! scenario as a dry run fires no fault and never halts.

use crate::support::{run_binary, run_binary_with};

const OUTAGE: &str = r#"
name: halt
seed: 5
upstreams: { openai: { mock: openai } }
target: { builtin: { retries: 0 } }
load: { arrival: { rate: 20/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: calm, duration: 2s }
  - { name: down, duration: 8s, faults: { openai: [{ status: 503 }] } }
  - { name: after, duration: 5s }
halt:
  - error_rate > 50%
  - cost_per_minute > $1000
expect:
  - availability{phase=calm} >= 99%
"#;

/// The first whole second at whose end the finished requests of the trailing 30 s were more
/// than half failures (at least 10 of them): when the breach could first be seen.
fn first_breach_second(timeline: &[serde_json::Value]) -> u64 {
    let count = |second: &serde_json::Value, field: &str| second[field].as_u64().unwrap_or(0);
    (1..60)
        .find(|end: &u64| {
            let window = timeline.iter().filter(|s| {
                let at = s["second"].as_u64().unwrap_or(u64::MAX);
                at < *end && at + 30 >= *end
            });
            let (finished, ok) =
                window.fold((0, 0), |(f, o), s| (f + count(s, "finished"), o + count(s, "ok")));
            finished >= 10 && (finished - ok) * 2 > finished
        })
        .expect("the outage breached the condition")
}

#[test]
fn a_halt_condition_stops_the_run_removes_every_fault_and_exits_4() {
    let run = run_binary(OUTAGE);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Halted ") && run.stdout.contains("`error_rate > 50%` held"),
        "{}",
        run.stdout
    );

    let results = run.results();
    assert_eq!(results["verdict"], "halted");
    let halt = &results["halted_by"];
    assert_eq!(
        (halt["condition"].as_str(), halt["phase"].as_str()),
        (Some("error_rate > 50%"), Some("down"))
    );
    assert!(halt["observed"].as_f64() > Some(0.5), "{halt}");
    let at = halt["at_s"].as_f64().expect("when");
    let breach = first_breach_second(results["timeline"].as_array().expect("timeline")) as f64;
    assert!(at >= breach && at <= breach + 1.0, "halted at {at}s; the breach showed at {breach}s");
    assert!(results["elapsed_s"].as_f64() < Some(12.0), "the run went on after the halt");

    // No fault fired after the halt: every attempt that arrived in a later second reached the
    // upstream.
    for second in results["attempt_timeline"].as_array().expect("attempt timeline") {
        if second["second"].as_f64() > Some(at) {
            let injected =
                second["attempts"].as_array().into_iter().flatten().filter(|a| a["injected"] == true);
            assert_eq!(injected.count(), 0, "a fault fired after the halt: {second}");
        }
    }
    let summary = std::fs::read_to_string(run.run_folder().join("summary.md")).expect("summary.md");
    assert!(summary.contains("**Halted "), "{summary}");
}

#[test]
fn a_dry_run_plays_the_plan_with_no_fault_firing() {
    let short = OUTAGE.replace("duration: 8s", "duration: 2s").replace("duration: 5s", "duration: 1s");
    let run = run_binary_with(&short, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("(dry run: no fault fires)"), "{}", run.stdout);
    let results = run.results();
    assert_eq!((results["dry_run"].as_bool(), results["verdict"].as_str()), (Some(true), Some("pass")));
    assert_eq!(results["overall"]["injected"], 0);
    assert_eq!(results["phases"][1]["availability"], 1.0, "the outage phase ran clean");
}
