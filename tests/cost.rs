//! Cost per logical request, in-process through real sockets: a known fault dose on a mocked
//! upstream gives exactly the expected retry amplification, fallback share, billed tokens and
//! cost multiplier against the baseline — failed attempts bill nothing, cut ones bill what
//! they generated.

use chaos::{analysis::Figures, assert::CheckStatus};

use crate::support::run_until;

/// Tokens per attempt are fixed: 100 prompt tokens (the load builds prompts the mocks count
/// exactly), 10 output tokens from the primary and 20 from the backup. At $1 and $10 per million
/// a baseline request costs 100 µ$ + 100 µ$ = $0.0002.
const DOSED: &str = r#"
name: e2e-cost
seed: 11
upstreams:
  primary: { mock: openai, output_tokens: 10 }
  backup:  { mock: openai, output_tokens: 20 }
target:
  builtin: { retries: 0, upstream: primary, fallbacks: [backup] }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: true, prompt_tokens: 100, max_tokens: 20 }
  drain: 10s
phases:
  - { name: baseline, duration: 2s }
  - name: failover
    duration: 2s
    faults:
      primary: [{ status: 503, every: 2 }]
  - name: cut
    duration: 2s
    faults:
      primary: [{ cut: { after_events: 4 } }]
prices: { gpt-4o-mini: { input: 1/M, output: 10/M } }
expect:
  - cost_per_request{phase=baseline} == $0.0002
  - cost_multiplier{phase=failover} == 1.25
  - cost_multiplier{phase=cut} < 1
"#;

fn close(observed: Option<f64>, expected: f64) -> bool {
    observed.is_some_and(|value| (value - expected).abs() <= 1e-9 * expected.abs())
}

fn tokens(figures: &Figures) -> (u64, u64) {
    (figures.billed_input_tokens, figures.billed_output_tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_fault_dose_gives_the_expected_amplification_fallback_share_and_cost_multiplier() {
    let (report, _reports) = run_until(DOSED, std::future::pending()).await;
    let results = &report.results;
    let [baseline, failover, cut] = &results.phases[..] else { panic!("three phases") };
    for phase in [baseline, failover, cut] {
        assert_eq!(phase.logical_requests, 20, "{}", phase.name);
        assert_eq!(phase.unpriced_attempts, 0, "{}", phase.name);
    }

    assert_eq!(baseline.retry_amplification, Some(1.0));
    assert_eq!(tokens(baseline), (20 * 100, 20 * 10));
    assert_eq!(baseline.estimated_token_share, Some(0.0), "every answer reported its usage");
    assert!(close(baseline.cost_per_request_usd, 0.0002), "{:?}", baseline.cost_per_request_usd);
    assert_eq!(baseline.cost_multiplier, None, "the baseline is the yardstick");

    // Every second request's first attempt gets a 503 (billed nothing) and falls back to the
    // backup, which answers with 20 tokens: (10 × 200 µ$ + 10 × 300 µ$) / 20 requests.
    assert_eq!(failover.availability, Some(1.0));
    assert_eq!(failover.attempts, 30);
    assert_eq!(failover.retry_amplification, Some(1.5));
    assert_eq!(failover.fallback_rate, Some(0.5));
    assert_eq!(tokens(failover), (20 * 100, 10 * 10 + 10 * 20));
    assert!(close(failover.cost_usd, 0.005), "{:?}", failover.cost_usd);
    assert!(close(failover.cost_multiplier, 1.25), "{:?}", failover.cost_multiplier);

    // Streams cut after the role chunk and three tokens fail, yet the provider billed the prompt
    // and those three tokens — estimated, as the usage chunk never came.
    assert_eq!(cut.availability, Some(0.0));
    assert_eq!(cut.retry_amplification, Some(1.0));
    assert_eq!(tokens(cut), (20 * 100, 20 * 3));
    assert_eq!(cut.estimated_token_share, Some(1.0));
    assert!(close(cut.cost_multiplier, 0.65), "{:?}", cut.cost_multiplier);

    let statuses: Vec<CheckStatus> = results.expectations.iter().map(|check| check.status).collect();
    assert_eq!(statuses, [CheckStatus::Pass; 3], "{:?}", results.expectations);

    let written: serde_json::Value = serde_json::from_slice(
        &std::fs::read(report.folder.join("results.json")).expect("results.json written"),
    )
    .expect("results.json is JSON");
    assert_eq!(written["prices"][0]["model"], "gpt-4o-mini");
    assert_eq!(written["prices"][0]["source"], "scenario");
    assert_eq!(written["phases"][2]["billed_output_tokens"], 60);
}
