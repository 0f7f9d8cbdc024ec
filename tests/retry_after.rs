//! Retry-After compliance, measured at the interposer: every first attempt gets a 429 asking for
//! 300 ms, and the built-in client retries once. Like the SDKs, `backoff: sdk` waits as asked —
//! every retry complies; `backoff: naive` retries at once — none does, and the expectation
//! fails.

use chaos::{analysis::Figures, assert::CheckStatus};

use crate::support::run_until;

fn scenario(backoff: &str) -> String {
    format!(
        r#"
name: retry-after-{backoff}
seed: 5
upstreams: {{ openai: {{ mock: openai }} }}
target:
  builtin: {{ retries: 1, backoff: {backoff} }}
load:
  arrival: {{ rate: 10/s }}
  request: {{ model: gpt-4o-mini, max_tokens: 5 }}
phases:
  - {{ name: calm, duration: 2s }}
  - name: asked
    duration: 3s
    faults:
      openai: [{{ status: 429, retry_after: 300ms, match: {{ header: {{ x-stainless-retry-count: "0" }} }} }}]
expect:
  - retry_after_compliance{{phase=asked}} >= 99%
"#
    )
}

/// The calm phase and the asked phase of a run with this backoff, and the expectation's status.
async fn run(backoff: &str) -> (Figures, Figures, CheckStatus, serde_json::Value) {
    let (report, _reports) = run_until(&scenario(backoff), std::future::pending()).await;
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.folder.join("results.json")).expect("results.json"))
            .expect("JSON");
    let results = report.results;
    let [calm, asked] = <[Figures; 2]>::try_from(results.phases).expect("two phases");
    (calm, asked, results.expectations[0].status, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_client_waits_as_asked_and_a_naive_one_does_not() {
    let ((calm, sdk, sdk_check, written), (_, naive, naive_check, _)) =
        tokio::join!(run("sdk"), run("naive"));

    assert_eq!(calm.logical_requests, 20);
    assert_eq!((calm.retries_asked_to_wait, calm.retry_after_compliance), (0, None), "nothing asked");

    for asked in [&sdk, &naive] {
        assert_eq!(asked.logical_requests, 30);
        assert_eq!(asked.attempts, 60, "each request: one 429, one retry");
        assert_eq!(asked.availability, Some(1.0));
        assert_eq!(asked.retries_asked_to_wait, 30);
    }
    assert_eq!(sdk.retry_after_compliance, Some(1.0));
    assert_eq!(sdk_check, CheckStatus::Pass);
    assert_eq!(naive.retry_after_compliance, Some(0.0));
    assert_eq!(naive_check, CheckStatus::Fail);

    assert_eq!(written["phases"][1]["retry_after_compliance"], 1.0);
    let method = written["methods"]["retry_after_compliance"].as_str().expect("the method is stated");
    assert!(method.contains("joined by correlation id"), "{method}");
}
