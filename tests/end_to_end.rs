//! Whole runs in-process, seconds long, through real sockets on 127.0.0.1: scenario → mock →
//! interposer → built-in client → phases → analysis → verdict → results.json; and the low-traffic
//! guard through the binary (exit 3).

use chaos::{
    analysis::Figures,
    assert::{CheckStatus, Verdict},
    Exit,
};

use crate::support::{plan, run_until};

async fn run(yaml: &str) -> (chaos::runner::RunReport, tempfile::TempDir) {
    run_until(yaml, std::future::pending()).await
}

fn outcome(figures: &Figures, key: &str) -> u64 {
    figures.outcomes.get(key).copied().unwrap_or(0)
}

const OUTAGE: &str = r#"
name: e2e-outage
seed: 7
upstreams:
  openai: { mock: openai }
target:
  builtin: { retries: 2 }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, prompt_tokens: 50, max_tokens: 5 }
  drain: 10s
phases:
  - { name: healthy, duration: 3s }
  - name: outage
    duration: 3s
    faults:
      openai: [{ status: 503 }]
expect:
  - availability{phase=healthy} == 100%
  - retry_amplification{phase=outage} == 3
  - availability{phase=outage} >= 99%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_503_gives_amplification_three_and_availability_zero() {
    let (report, _reports) = run(OUTAGE).await;
    let results = &report.results;
    let [healthy, outage] = &results.phases[..] else { panic!("two phases") };

    assert_eq!(healthy.logical_requests, 30);
    assert_eq!(healthy.availability, Some(1.0));
    assert_eq!(healthy.retry_amplification, Some(1.0));
    assert_eq!(healthy.injected, 0);
    assert_eq!(outcome(healthy, "ok"), 30);

    assert_eq!(outage.logical_requests, 30);
    assert_eq!(outage.availability, Some(0.0));
    assert_eq!(outage.retry_amplification, Some(3.0));
    assert_eq!(outage.attempts, 90);
    assert_eq!(outage.injected, 90);
    assert_eq!(outcome(outage, "http_503"), 30);
    assert_eq!(outage.join, chaos::analysis::JoinMethod::Correlation);
    // Two SDK backoffs (0.5 s and 1 s, less up to 25 % jitter) lie between send and failure.
    let p50 = outage.latency_ms.expect("latencies").p50;
    assert!(p50 >= 1125.0, "outage p50 {p50} ms is shorter than two backoffs");

    let statuses: Vec<_> = results.expectations.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [CheckStatus::Pass, CheckStatus::Pass, CheckStatus::Fail]);
    assert_eq!(results.verdict, Verdict::Fail);
    assert_eq!(chaos::exit_for(results.verdict), Exit::Failed);

    let written: serde_json::Value = serde_json::from_slice(
        &std::fs::read(report.folder.join("results.json")).expect("results.json written"),
    )
    .expect("results.json is JSON");
    assert_eq!(written["schema_version"], chaos::results::SCHEMA_VERSION);
    assert_eq!(written["phases"][1]["retry_amplification"], 3.0);
    assert_eq!(written["phases"][0]["availability"], 1.0);
    assert_eq!(written["verdict"], "fail");
    assert_eq!(written["scenario"]["seed"], 7);
}

const THROTTLED: &str = r#"
name: e2e-throttled
upstreams:
  openai: { mock: openai, keys: 3 }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, prompt_tokens: 50 }
phases:
  - { name: healthy, duration: 2s }
  - name: throttled
    duration: 2s
    faults:
      openai: [{ status: 429, retry_after: 1s }]
expect:
  - p50{phase=throttled} >= 2s
  - p50{phase=healthy} < 500ms
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_waits_exactly_what_retry_after_asks() {
    let (report, _reports) = run(THROTTLED).await;
    let throttled = &report.results.phases[1];
    assert_eq!(throttled.retry_amplification, Some(3.0));
    assert_eq!(outcome(throttled, "http_429"), throttled.logical_requests);
    // Two waits of exactly `retry-after: 1`, no jitter: p50 and max sit just above 2 s.
    let latency = throttled.latency_ms.expect("latencies");
    assert!((2000.0..2400.0).contains(&latency.p50), "{latency:?}");
    assert!(latency.max < 2600.0, "{latency:?}");
    // 20 requests per phase: exactly the low-traffic guard's minimum, so the verdict counts.
    assert_eq!(report.results.verdict, Verdict::Pass, "{:?}", report.results.expectations);
}

const TOO_SLOW: &str = r#"
name: e2e-too-slow
upstreams:
  openai: { mock: openai }
target:
  builtin: { retries: 2, timeout: 300ms }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini }
phases:
  - name: slow
    duration: 2s
    faults:
      openai: [{ latency: 1s }]
"#;

/// Regression (review of issue 2): attempts the client gave up on were never recorded, so
/// amplification read 0 instead of 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_the_client_timed_out_on_still_count() {
    let (report, _reports) = run(TOO_SLOW).await;
    let slow = &report.results.phases[0];
    assert_eq!(slow.logical_requests, 20);
    assert_eq!(outcome(slow, "timeout"), 20);
    assert_eq!(slow.attempts, 60, "{:?}", slow.attempt_statuses);
    assert_eq!(slow.retry_amplification, Some(3.0));
}

const ZONE_LOSS: &str = r#"
name: e2e-zone-loss
upstreams:
  primary: { mock: openai, zone: a }
  other:   { mock: openai, zone: b }
target:
  builtin: { retries: 2, upstream: primary }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini }
phases:
  - { name: healthy, duration: 2s }
  - { name: zone-a-down, duration: 2s, zone_loss: { zone: a, mode: reset } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_a_zone_resets_every_connection_to_it_and_spares_the_others() {
    let plan = plan(ZONE_LOSS);
    assert_eq!(plan.phases[1].faults[0].len(), 1, "the zone-a upstream goes dark");
    assert!(plan.phases[1].faults[1].is_empty(), "the zone-b upstream is spared");

    let (report, _reports) = run(ZONE_LOSS).await;
    let [healthy, down] = &report.results.phases[..] else { panic!("two phases") };
    assert_eq!(healthy.availability, Some(1.0));
    assert_eq!(down.availability, Some(0.0));
    assert_eq!(outcome(down, "connection_error"), down.logical_requests);
    // Connection errors are retried like the SDKs do: three attempts, each reset.
    assert_eq!(down.retry_amplification, Some(3.0));
    assert_eq!(down.attempt_statuses.get("aborted"), Some(&down.attempts));
}

const CUT_STREAMS: &str = r#"
name: e2e-cut-streams
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: true, max_tokens: 20 }
phases:
  - name: cut
    duration: 2s
    faults:
      openai: [{ cut: { after_events: 5 } }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_streams_count_as_cut_even_when_the_client_cannot_tell() {
    let (report, _reports) = run(CUT_STREAMS).await;
    let cut = &report.results.phases[0];
    assert_eq!(cut.logical_requests, 20);
    assert_eq!(cut.incomplete_streams, 20, "every attempt's stream ended without [DONE]");
    // The SDKs end such a stream silently; the load generator still counts it as cut, and (as
    // the SDKs do once a stream has begun) does not retry it.
    assert_eq!(outcome(cut, "stream_cut"), 20);
    assert_eq!(cut.availability, Some(0.0));
    assert_eq!(cut.retry_amplification, Some(1.0));
    // Five events got through: the role chunk and four tokens.
    assert_eq!(cut.output_tokens, 20 * 4);
    assert!(cut.ttft_ms.is_some() && cut.itl_ms.is_some(), "the tokens that came were timed");
}

const SEEDED: &str = r#"
name: e2e-seeded
seed: 1234
upstreams:
  openai: { mock: openai }
target:
  builtin: { retries: 2, timeout: 5s }
load:
  arrival: { rate: 20/s, process: poisson }
  request: { model: gpt-4o-mini }
phases:
  - name: flaky
    duration: 2s
    faults:
      openai: [{ status: 503, probability: 30%, retry_after: 10ms }]
"#;

/// The same seed makes the same fault decisions however the two runs' timing differs: counts
/// of requests, failures and attempts per status repeat exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_repeats_the_same_decisions() {
    let counts = |figures: &Figures| {
        (figures.logical_requests, figures.failures, figures.attempts, figures.attempt_statuses.clone())
    };
    let (first, _a) = run(SEEDED).await;
    let (second, _b) = run(SEEDED).await;
    let (first, second) = (counts(&first.results.phases[0]), counts(&second.results.phases[0]));
    assert!(first.3.get("503").copied().unwrap_or(0) > 0, "the fault fired: {first:?}");
    assert_eq!(first, second);
    let other_seed = run(&SEEDED.replace("seed: 1234", "seed: 4321")).await.0;
    assert_ne!(counts(&other_seed.results.phases[0]).3, first.3, "another seed decides differently");
}

const ZONE_REFUSED: &str = r#"
name: e2e-zone-refused
upstreams:
  primary: { mock: openai, zone: a }
target:
  builtin: { retries: 2 }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini }
phases:
  - { name: healthy, duration: 2s }
  - { name: refused, duration: 4s, zone_loss: { zone: a, mode: refuse } }
  - { name: recovery, duration: 3s }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_zone_fails_connections_then_comes_back_on_the_same_port() {
    let (report, _reports) = run(ZONE_REFUSED).await;
    let [healthy, refused, recovery] = &report.results.phases[..] else { panic!("three phases") };
    assert_eq!(healthy.availability, Some(1.0));
    // Requests fail all three attempts unless their retries (~0.5 s and ~1.5 s later) land after
    // the zone is back: of a 4 s phase, roughly the last 1.1–1.5 s recover.
    assert!(refused.availability.expect("requests") < 0.6, "{:?}", refused.outcomes);
    assert!(outcome(refused, "connection_error") > 0, "{:?}", refused.outcomes);
    // Refused connections never reach the interposer: the provider saw fewer attempts than requests.
    assert!(refused.attempts < refused.logical_requests, "{} attempts", refused.attempts);
    assert_eq!(recovery.availability, Some(1.0), "listening again on the same port");
}

/// The low-traffic guard: five requests are too few for a verdict on availability, so the run
/// is inconclusive and exits 3 — not a pass, though every request succeeded.
#[test]
fn too_few_requests_for_a_verdict_exit_3_not_a_pass() {
    let run = crate::support::run_binary(
        r#"
name: too-quiet
upstreams: { openai: { mock: openai } }
load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini, max_tokens: 5 } }
phases:
  - { name: only, duration: 1s }
expect:
  - availability >= 99%
"#,
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    assert_eq!(
        (results["verdict"].as_str(), results["overall"]["availability"].as_f64()),
        (Some("inconclusive"), Some(1.0))
    );
    assert_eq!(results["expectations"][0]["status"], "inconclusive");
}

/// Log lines on stderr carry no colour codes when stderr is not a terminal (a CI log, a pipe).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_to_a_pipe_carry_no_colour_codes() {
    let yaml = "name: plain\nupstreams: { openai: { mock: openai } }\n\
                load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini, max_tokens: 2 } }\n\
                phases: [{ name: only, duration: 1s }]\n";
    let run =
        tokio::task::spawn_blocking(move || crate::support::run_binary_in_env(yaml, "RUST_LOG", "info"))
            .await
            .expect("the run");
    assert!(run.stderr.contains("phase started"), "the info lines are there: {}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "no escape codes: {:?}", run.stderr);
}
