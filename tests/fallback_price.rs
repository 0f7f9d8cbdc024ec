//! A fallback to another provider's model is billed at that model's price: the built-in client
//! asks the fallback upstream for the model its `fallbacks:` entry names (`anthropic/<model>`),
//! the upstream answers and bills that model, and the cost prices it from the default table.
//! (Before, the fallback was asked for the primary's model and billed at the primary's price.)

use crate::support::run_until;

/// Every attempt at the primary gets a 503 (billed nothing); each request falls back to the
/// Anthropic mock, which bills 100 prompt and 10 output tokens of claude-3-5-haiku: at $0.80
/// and $4.00 per million, 80 µ$ + 40 µ$ = $0.00012 a request (gpt-4o's price would give $0.00035).
const FALLBACK: &str = r#"
name: fallback-price
seed: 3
upstreams:
  openai: { mock: openai }
  anthropic: { mock: anthropic, output_tokens: 10 }
target:
  builtin: { retries: 0, upstream: openai, fallbacks: [anthropic/claude-3-5-haiku] }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o, prompt_tokens: 100, max_tokens: 20 }
  drain: 10s
phases:
  - name: primary-down
    duration: 1s
    faults:
      openai: [{ status: 503 }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_from_gpt_4o_to_a_claude_model_bills_the_anthropic_price() {
    let (report, _folder) = run_until(FALLBACK, std::future::pending()).await;
    let results = &report.results;
    let phase = &results.phases[0];
    assert_eq!(phase.logical_requests, 10);
    assert_eq!(phase.availability, Some(1.0));
    assert_eq!(phase.fallback_rate, Some(1.0), "every request served by the fallback");
    assert_eq!((phase.billed_input_tokens, phase.billed_output_tokens), (10 * 100, 10 * 10));
    assert_eq!(phase.unpriced_attempts, 0);
    let cost = phase.cost_per_request_usd.expect("priced");
    assert!((cost - 0.00012).abs() < 1e-12, "claude-3-5-haiku's price, not gpt-4o's: {cost}");
    let priced: Vec<(&str, Option<f64>)> =
        results.prices.iter().map(|p| (p.model.as_str(), p.input_usd_per_million)).collect();
    assert_eq!(priced, [("claude-3-5-haiku", Some(0.80))], "only the model that billed");
}
