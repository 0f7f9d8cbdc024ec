//! A gateway that goes around the interposers (a wrong base URL) used to get PASS, exit 0, with
//! zero attempts under a 100 % 503 phase. Now such a run is INVALID (exit 3) and says why.

use chaos::{mock::MockBuilder, wire::ApiFamily};

use crate::support::run_binary;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_goes_around_the_interposers_is_invalid_not_a_pass() {
    // The stand-in gateway: a mock of the provider itself, reached directly, as a gateway whose
    // base URL names the provider instead of the interposer would reach it.
    let provider = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("a stand-in provider");
    let yaml = format!(
        r#"
name: bypass
upstreams: {{ openai: {{ mock: openai }} }}
target: {{ url: "http://{}" }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: gpt-4o-mini, max_tokens: 2 }} }}
phases:
  - {{ name: healthy, duration: 1s }}
  - name: outage
    duration: 1s
    faults:
      openai: [{{ status: 503 }}]
expect:
  - availability >= 99%
"#,
        provider.addr
    );
    let run = tokio::task::spawn_blocking(move || run_binary(&yaml)).await.expect("the run");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Invalid: in phase outage, 20 requests were sent but none reached an interposer"),
        "{}",
        run.stdout
    );
    let results = run.results();
    assert_eq!(results["verdict"], "invalid");
    assert_eq!(results["phases"][1]["attempts"], 0);
    assert_eq!(results["phases"][1]["availability"], 1.0, "the stand-in answered every request");
    let summary = std::fs::read_to_string(run.run_folder().join("summary.md")).expect("summary.md");
    assert!(summary.contains("none reached an interposer"), "{summary}");
}
