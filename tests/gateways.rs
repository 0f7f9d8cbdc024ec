//! Real gateways and clients as `command` targets: the LiteLLM proxy (`scenarios/gateways/`),
//! installed by `scripts/python-venv` into `target/gateway-venv` (PyPI on the first run, about a
//! minute; a no-op after), and openai-python itself behind `openai_sdk_driver.py`, in
//! `target/openai-sdk-venv`. Like the SDK tier, it fails, never skips, when it cannot install.

use std::process::Command;

use crate::{sdk_tier::run, support::root};

const INSTALL_HINT: &str = "the gateway tier needs Python 3.10+ with venv and pip, and PyPI reachable on \
                            the first run (Debian: apt-get install python3 python3-venv)";

/// Installs `requirements` into `target/<venv>` with `scripts/python-venv` (a no-op once done).
pub fn install(venv: &str, requirements: &str) {
    let script = root().join("scripts/python-venv");
    run(
        Command::new(script).args([venv, requirements]),
        &format!("scripts/python-venv {venv}"),
        INSTALL_HINT,
    );
}

/// The primary is down for the whole last phase, and its faults hold through the drain, so every
/// request of the phase meets a 503 on each of LiteLLM's attempts at it.
const HARD_DOWN: &str = r#"
name: litellm-hard-down-test
seed: 3
upstreams:
  openai: { mock: openai }
  anthropic: { mock: anthropic }
target:
  command: '"@litellm@" --config {{dir}}/litellm.yaml --host 127.0.0.1 --port {{port}}'
  files: { litellm.yaml: scenarios/gateways/litellm.template.yaml }
  env: { LITELLM_MASTER_KEY: "{{key}}", LITELLM_LOCAL_MODEL_COST_MAP: "True" }
  health: http://127.0.0.1:{{port}}/health/liveliness
  startup_timeout: 120s
  timeout: 60s
load:
  arrival: { rate: 2/s }
  request: { model: gpt-4o-mini, max_tokens: 5 }
phases:
  - { name: baseline, duration: 4s }
  - name: down
    duration: 8s
    faults:
      openai: [{ status: 503 }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_retries_the_primary_twice_then_falls_back_as_the_mocks_confirm() {
    let root = root();
    install("gateway-venv", "scenarios/gateways/requirements.txt");
    let litellm = root.join("target/gateway-venv/bin/litellm");
    let yaml = HARD_DOWN.replace("@litellm@", &litellm.to_string_lossy());
    let (report, _reports) = crate::support::run_until(&yaml, std::future::pending()).await;
    let results = &report.results;
    let down = &results.phases[1];
    assert_eq!(down.logical_requests, 16);
    assert_eq!(down.availability, Some(1.0), "{:?}", down.outcomes);
    // num_retries: 2 — three attempts at the primary, all 503, then one at the fallback.
    assert_eq!(down.attempt_statuses.get("503"), Some(&48), "{:?}", down.attempt_statuses);
    assert_eq!(down.attempt_statuses.get("200"), Some(&16), "{:?}", down.attempt_statuses);
    assert_eq!(down.retry_amplification, Some(4.0));
    assert_eq!(down.fallback_rate, Some(1.0));
    // The mocks' own counters: the injected 503s never reached the primary's mock, and the
    // fallback's mock answered every request of the phase.
    let received = |upstream: usize| received(results, upstream);
    let served_by_fallback: u64 = results.phases.iter().filter_map(|p| p.served_by.get("anthropic")).sum();
    assert_eq!(received(1), served_by_fallback, "{:?}", results.upstreams[1].received);
    let served_by_primary: u64 = results.phases.iter().filter_map(|p| p.served_by.get("openai")).sum();
    assert_eq!(received(0), served_by_primary, "{:?}", results.upstreams[0].received);
    assert_eq!(down.join, chaos::analysis::JoinMethod::Correlation, "the tag survived LiteLLM");
}

/// Requests an upstream's mock counted itself, over all keys and models.
pub fn received(results: &chaos::results::Results, upstream: usize) -> u64 {
    results.upstreams[upstream]
        .received
        .as_array()
        .map_or(0, |rows| rows.iter().map(|row| row["requests"].as_u64().unwrap_or(0)).sum())
}

/// openai-python with its default two retries, behind the driver; the primary answers every
/// request of the last phase with a 429 asking for a one-second wait (and holds that fault
/// through the drain, so every retry meets it).
const SDK_THROTTLED: &str = r#"
name: openai-sdk-test
seed: 8
upstreams:
  openai: { mock: openai }
target:
  command: '"@python@" {{dir}}/openai_sdk_driver.py --port {{port}}'
  files: { openai_sdk_driver.py: scenarios/gateways/openai_sdk_driver.py }
  env: { OPENAI_BASE_URL: "{{upstreams.openai.url}}/v1", OPENAI_API_KEY: "{{upstreams.openai.key}}" }
  health: http://127.0.0.1:{{port}}/health
  startup_timeout: 60s
  timeout: 30s
load:
  arrival: { rate: 2/s }
  request: { model: gpt-4o-mini, max_tokens: 5 }
phases:
  - { name: calm, duration: 3s }
  - name: throttled
    duration: 3s
    faults:
      openai: [{ status: 429, retry_after: 1s }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_retries_twice_honouring_retry_after_as_the_mock_confirms() {
    let root = root();
    install("openai-sdk-venv", "scenarios/gateways/openai-sdk.requirements.txt");
    let python = root.join("target/openai-sdk-venv/bin/python");
    let yaml = SDK_THROTTLED.replace("@python@", &python.to_string_lossy());
    let (report, _reports) = crate::support::run_until(&yaml, std::future::pending()).await;
    let results = &report.results;
    let throttled = &results.phases[1];
    assert_eq!(throttled.logical_requests, 6);
    // max_retries 2: three attempts, each a 429, then the SDK raises and the driver passes it on.
    assert_eq!(throttled.outcomes.get("http_429"), Some(&6), "{:?}", throttled.outcomes);
    assert_eq!(throttled.attempt_statuses.get("429"), Some(&18), "{:?}", throttled.attempt_statuses);
    assert_eq!(throttled.retry_amplification, Some(3.0));
    // Each of the 12 retries waited at least the second it was asked for.
    assert_eq!(throttled.retries_asked_to_wait, 12);
    assert_eq!(throttled.retry_after_compliance, Some(1.0));
    assert_eq!(throttled.join, chaos::analysis::JoinMethod::Correlation, "the driver passed the tag on");
    // The 429s were the interposer's: the mock saw only the calm phase's requests.
    let served: u64 = results.phases.iter().filter_map(|p| p.served_by.get("openai")).sum();
    assert_eq!(received(results, 0), served);
    assert_eq!(served, results.phases[0].logical_requests);
}

/// A LiteLLM the user runs themselves — started here, not by the harness — with the shipped
/// `litellm-running.config.yaml` pointing it at the fixed `listen:` addresses of the shipped
/// `litellm-running.yaml`, run as a `url` target: the preflight passes through it, and the
/// figures agree with the mocks' own counters (3 + 1 attempts a request in the hard-down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litellm_started_outside_the_harness_is_measured_through_fixed_addresses() {
    const MASTER_KEY: &str = "sk-master-outside-7f3a";
    let root = root();
    install("gateway-venv", "scenarios/gateways/requirements.txt");
    // Where the user's files say 9101, 9102 and 4000, ports free on this machine.
    let held: Vec<std::net::TcpListener> =
        (0..3).map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port")).collect();
    let ports: Vec<String> = held.iter().map(|l| l.local_addr().expect("an address").to_string()).collect();
    drop(held);
    let moved = |text: String| {
        text.replace("127.0.0.1:9101", &ports[0])
            .replace("127.0.0.1:9102", &ports[1])
            .replace("127.0.0.1:4000", &ports[2])
    };
    let shipped =
        |name: &str| std::fs::read_to_string(root.join("scenarios/gateways").join(name)).expect(name);
    let folder = tempfile::tempdir().expect("a folder for LiteLLM");
    let config = folder.path().join("litellm.yaml");
    std::fs::write(&config, moved(shipped("litellm-running.config.yaml"))).expect("config written");
    let litellm = root.join("target/gateway-venv/bin/litellm");
    let port = ports[2].rsplit(':').next().expect("a port");
    let command =
        format!("\"{}\" --config {} --host 127.0.0.1 --port {port}", litellm.display(), config.display());
    let env = [("LITELLM_MASTER_KEY", MASTER_KEY), ("LITELLM_LOCAL_MODEL_COST_MAP", "True")]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
    let mut gateway =
        chaos::target::TargetProcess::spawn(&command, &env, folder.path(), &folder.path().join("log"))
            .expect("LiteLLM starts");
    let health = format!("http://{}/health/liveliness", ports[2]).parse().expect("a URL");
    gateway.wait_healthy(&health, std::time::Duration::from_secs(120)).await.expect("LiteLLM is up");

    let yaml = moved(shipped("litellm-running.yaml"));
    let run = tokio::task::spawn_blocking(move || {
        crate::support::run_binary_in_env(&yaml, "LITELLM_MASTER_KEY", MASTER_KEY)
    })
    .await
    .expect("the run");
    gateway.stop(chaos::target::process::STOP_GRACE).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("OPENAI_BASE_URL=http://{}/v1", ports[0])), "{}", run.stdout);
    let results = run.results();
    let preflight = &results["preflight"];
    assert_eq!((preflight["reached"].as_u64(), preflight["ids_forwarded"].as_bool()), (Some(3), Some(true)));
    assert_eq!(
        preflight["reached_upstreams"],
        serde_json::json!(["openai"]),
        "LiteLLM sent them to its primary"
    );
    let down = &results["phases"][1];
    assert_eq!(down["logical_requests"], 24);
    assert_eq!(down["attempt_statuses"]["503"], 72, "three attempts at the primary each: {down}");
    assert_eq!(down["attempt_statuses"]["200"], 24, "then one at the fallback: {down}");
    assert_eq!(down["retry_amplification"], 4.0);
    assert_eq!(down["fallback_rate"], 1.0);
    assert_eq!(down["join"], "correlation", "the tag survived LiteLLM");
    assert_eq!(results["overall"]["uncorrelated_attempts"], 0, "LiteLLM sent nothing of its own");
    // The mocks' own counters: the 503s were the interposer's, never the primary mock's.
    let counted = |upstream: usize| -> u64 {
        let rows = results["upstreams"][upstream]["received"].as_array().expect("rows");
        rows.iter().map(|row| row["requests"].as_u64().expect("a count")).sum()
    };
    let served = |name: &str| -> u64 {
        let phases = results["phases"].as_array().expect("phases");
        phases.iter().filter_map(|phase| phase["served_by"][name].as_u64()).sum()
    };
    assert_eq!((counted(0), counted(1)), (served("openai"), served("anthropic")));
    assert_eq!(served("anthropic"), 24);
    let written = std::fs::read_to_string(run.run_folder().join("results.json")).expect("results");
    assert!(!written.contains(MASTER_KEY) && !run.stdout.contains(MASTER_KEY), "the key stays out");
}
