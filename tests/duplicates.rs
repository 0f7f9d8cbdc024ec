//! Duplicate calls: work the upstream did twice for one logical request. In the `slow` phase
//! every first attempt's answer crawls back at 100 B/s; the client's 500 ms timeout gives up on
//! it after the upstream's 200 head and, as the SDKs do for a non-streamed answer, retries. The
//! upstream answered both attempts with a 2xx: every such request is a duplicate.

use chaos::{analysis::Figures, assert::CheckStatus};

use crate::support::run_until;

const SLOW_FIRST_ANSWERS: &str = r#"
name: duplicates
seed: 3
upstreams: { openai: { mock: openai, output_tokens: 50 } }
target:
  builtin: { retries: 1, timeout: 500ms }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: false, max_tokens: 50 }
phases:
  - { name: calm, duration: 2s }
  - name: slow
    duration: 2s
    faults:
      openai: [{ bandwidth: 100B/s, match: { header: { x-stainless-retry-count: "0" } } }]
expect:
  - duplicate_rate{phase=calm} == 0%
  - duplicate_rate{phase=slow} < 1%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_client_timeout_makes_the_upstream_answer_twice() {
    let (report, _reports) = run_until(SLOW_FIRST_ANSWERS, std::future::pending()).await;
    let results = &report.results;
    let [calm, slow]: &[Figures; 2] = results.phases[..].try_into().expect("two phases");

    assert_eq!((calm.logical_requests, calm.attempts), (20, 20));
    assert_eq!((calm.duplicate_requests, calm.duplicate_rate), (0, Some(0.0)));

    assert_eq!(slow.logical_requests, 20);
    assert_eq!(slow.availability, Some(1.0), "the retry answers in time");
    assert_eq!(slow.attempt_statuses.get("200"), Some(&40), "{:?}", slow.attempt_statuses);
    assert_eq!((slow.duplicate_requests, slow.duplicate_rate), (20, Some(1.0)));
    assert_eq!(results.overall.duplicate_requests, 20);

    let statuses: Vec<CheckStatus> = results.expectations.iter().map(|check| check.status).collect();
    assert_eq!(statuses, [CheckStatus::Pass, CheckStatus::Fail]);
}
