//! The agent-loop request kind (`tools`, `agent_steps`) in a whole run through real sockets: a
//! task is one logical request whose calls are all its attempts, so a calm two-step task
//! amplifies exactly 2.0 and bills both calls (its calls neither retries nor duplicates of each
//! other: `x-chaos-call`); each retried 503 adds one attempt to its task's; and a
//! cut inside the first call's tool arguments ends the task there.

use crate::support::run_until;

const AGENT: &str = r#"
name: agent-load
seed: 5
upstreams:
  openai: { mock: openai, output_tokens: 10 }
target:
  builtin: { retries: 2 }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: true, prompt_tokens: 100, tools: 1, agent_steps: 2 }
  drain: 10s
phases:
  - { name: calm, duration: 2s }
  - name: cut
    duration: 2s
    faults:
      openai: [{ cut: { after_events: 2, in: tool_arguments } }]
  # Last: a retry's backoff may reach past its phase's end, into the next phase's faults.
  - name: flaky
    duration: 2s
    faults:
      openai: [{ status: 503, first: 5 }]
prices: { gpt-4o-mini: { input: 1/M, output: 10/M } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_one_logical_request_whose_calls_are_its_attempts() {
    let (report, _reports) = run_until(AGENT, std::future::pending()).await;
    let [calm, cut, flaky] = &report.results.phases[..] else { panic!("three phases") };
    for phase in [calm, cut, flaky] {
        assert_eq!(phase.logical_requests, 20, "{}", phase.name);
    }

    assert_eq!(calm.attempts, 40, "two calls a task");
    assert_eq!(calm.retry_amplification, Some(2.0));
    assert_eq!(calm.availability, Some(1.0));
    // The text call answers exactly 10 tokens; the tool call adds its argument fragments.
    assert!(calm.billed_output_tokens > 20 * 10, "{}", calm.billed_output_tokens);
    // The second call carries the prompt again, with the call and its result.
    assert!(calm.billed_input_tokens > 20 * 2 * 100, "{}", calm.billed_input_tokens);
    // The calls of a task are neither retries nor duplicates of each other.
    assert_eq!(calm.duplicate_requests, 0);
    assert_eq!(calm.retry_gap_ms, None, "no call waited on another as a retry");
    let per_task = calm.cost_per_request_usd.expect("priced");
    let by_tokens =
        (calm.billed_input_tokens as f64 * 1.0 + calm.billed_output_tokens as f64 * 10.0) / 1e6 / 20.0;
    assert!((per_task - by_tokens).abs() < 1e-12, "{per_task} per task against {by_tokens}");

    assert_eq!(flaky.availability, Some(1.0), "each 503 was retried: {:?}", flaky.outcomes);
    assert_eq!(flaky.attempts, 45, "five retries on top of the tasks' calls");
    assert_eq!(flaky.retry_amplification, Some(2.25));
    let gaps = flaky.retry_gap_ms.expect("five retries waited");
    assert!(gaps.p50 >= 300.0, "only the SDK backoffs count as gaps, not the next calls: {gaps:?}");
    assert_eq!(flaky.duplicate_requests, 0);

    assert_eq!(cut.attempts, 20, "a task ends at its cut first call");
    assert_eq!(cut.availability, Some(0.0));
}
