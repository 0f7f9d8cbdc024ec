//! A `url:` upstream — a real provider behind the interposer — over real sockets: a TLS server on
//! 127.0.0.1 with a test certificate, trusted through `chaos run --upstream-ca`, answering
//! OpenAI-shaped bodies with `usage`. Its answers reach the client byte for byte, their usage is
//! billed from the price table, the spend guard halts the run at its limit, and `key_env`
//! replaces the target's key without any key showing in what the run writes.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, Request, Response};

use chaos::proxy::InterposerConfig;

use crate::support::{free_port, http, run_binary_in, tls_server, BinaryRun};

/// The provider's whole answer to a chat completion, bytes as sent: 1000 + 1000 tokens.
const ANSWER: &str = r#"{"id":"chatcmpl-remote","object":"chat.completion","created":1765000000,"model":"remote-model","choices":[{"index":0,"message":{"role":"assistant","content":"héllo ✓ from  far away\n","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":1000,"total_tokens":2000}}"#;

/// The same answer streamed, the usage chunk last before `[DONE]`.
const STREAMED: &str = concat!(
    "data: {\"id\":\"chatcmpl-remote\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"remote-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-remote\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"remote-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"héllo ✓\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-remote\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"remote-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-remote\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"remote-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\n",
    "data: [DONE]\n\n",
);

/// $2 and $8 per million tokens: each answer costs $0.002 + $0.008 = $0.01.
const PRICES: &str = "prices: { remote-model: { input: 2/M, output: 8/M } }";
const COST_PER_ANSWER: f64 = 0.01;

/// The credential headers of each request the provider received.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// The provider: a TLS server answering [`ANSWER`] (or [`STREAMED`] to `"stream":true`) and
/// noting each request's `authorization` and `x-api-key`. Its port, and the CA file to trust.
async fn provider(folder: &std::path::Path) -> (u16, String, Seen) {
    let seen: Seen = Arc::default();
    let noted = Arc::clone(&seen);
    let answer = move |request: Request<Incoming>| {
        let noted = Arc::clone(&noted);
        async move {
            let header = |name: &str| {
                request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
            };
            noted.lock().unwrap().push((header("authorization"), header("x-api-key")));
            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let streamed = String::from_utf8_lossy(&body).contains("\"stream\":true");
            let (kind, text) =
                if streamed { ("text/event-stream", STREAMED) } else { ("application/json", ANSWER) };
            let response =
                Response::builder().header("content-type", kind).header("x-request-id", "req_remote");
            Ok::<_, Infallible>(
                response.body(Full::new(Bytes::from_static(text.as_bytes()))).expect("a response"),
            )
        }
    };
    let (port, pem) = tls_server(answer).await;
    let ca = folder.join("ca.pem");
    std::fs::write(&ca, pem).expect("the CA written");
    (port, ca.to_string_lossy().into_owned(), seen)
}

/// `chaos run` of `yaml` with `--upstream-ca ca` and `env`, off the test's runtime (its provider
/// keeps serving meanwhile).
async fn run(yaml: String, ca: &str, env: &'static [(&'static str, &'static str)]) -> BinaryRun {
    let ca = ca.to_owned();
    // No preflight: the requests sent straight to the interposer beside the load would race it.
    tokio::task::spawn_blocking(move || run_binary_in(&yaml, &["--upstream-ca", &ca, "--no-preflight"], env))
        .await
        .expect("the run")
}

/// Once `authority` accepts connections (the run has bound its interposer), one chat completion
/// through it with these headers, streamed or not: the status and the body as the client got it.
fn through(authority: &str, headers: &[(&str, &str)], stream: bool) -> (u16, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(authority).is_err() {
        assert!(std::time::Instant::now() < deadline, "the interposer never listened on {authority}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let body = format!(
        r#"{{"model":"remote-model","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let mut headers = headers.to_vec();
    headers.push(("content-type", "application/json"));
    http(authority, "POST", "/v1/chat/completions", &headers, &body)
}

fn close(observed: f64, expected: f64) -> bool {
    (observed - expected).abs() < 1e-9
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_upstream_passes_answers_through_byte_exact_and_bills_their_usage() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (port, ca, seen) = provider(folder.path()).await;
    let listen = free_port();
    // The `url` target is the interposer itself, as a gateway pointed at it would be; its own key
    // passes through to the provider (no `key_env`).
    let yaml = format!(
        r#"
name: remote-passthrough
upstreams:
  real: {{ url: "https://localhost:{port}", family: openai, listen: "127.0.0.1:{listen}" }}
target: {{ url: "http://127.0.0.1:{listen}", api_key_env: CHAOS_REMOTE_TARGET_KEY }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: remote-model, max_tokens: 2 }} }}
phases:
  - {{ name: only, duration: 2s }}
{PRICES}
expect:
  - availability >= 99%
"#
    );
    let authority = format!("127.0.0.1:{listen}");
    let direct = tokio::task::spawn_blocking(move || {
        let auth = [("authorization", "Bearer sk-target-own")];
        (through(&authority, &auth, false), through(&authority, &auth, true))
    });
    let run = run(yaml, &ca, &[("CHAOS_REMOTE_TARGET_KEY", "sk-target-own")]).await;
    let (json, streamed) = direct.await.expect("the requests through the interposer");

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json, (200, ANSWER.to_owned()), "the JSON answer, byte for byte");
    assert_eq!(streamed, (200, STREAMED.to_owned()), "the streamed answer, byte for byte");
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(auth, _)| auth == "Bearer sk-target-own"), "the target's key passes: {seen:?}");

    let results = run.results();
    let overall = &results["overall"];
    let logical = overall["logical_requests"].as_u64().expect("a count");
    assert!(logical >= 35, "{overall}");
    // Every attempt through the interposer billed its usage: the load's in the figures, the two
    // above (with no correlation id) apart.
    let (input, output) = (overall["billed_input_tokens"].as_u64(), overall["billed_output_tokens"].as_u64());
    let answers = input.expect("input tokens") / 1000;
    assert_eq!((input, output), (Some(answers * 1000), Some(answers * 1000)), "{overall}");
    assert_eq!(overall["uncorrelated_attempts"], 2, "{overall}");
    let apart = overall["uncorrelated_cost_usd"].as_f64().expect("their cost");
    assert!(close(apart, 2.0 * COST_PER_ANSWER), "{apart}");
    assert_eq!(answers + 2, seen.len() as u64, "each answer the provider gave was billed once");
    assert!(answers >= logical, "{answers} answers for {logical} requests");
    let cost = overall["cost_usd"].as_f64().expect("a cost");
    assert!(close(cost, answers as f64 * COST_PER_ANSWER), "{cost} for {answers} answers");
    let upstream = &results["upstreams"][0];
    assert_eq!(upstream["url"], format!("https://localhost:{port}"), "{upstream}");
    let report = std::fs::read_to_string(run.run_folder().join("report.html")).expect("report.html");
    assert!(report.contains(&format!("a real provider at <code>https://localhost:{port}</code>")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spend_guard_halts_the_run_once_the_metered_cost_reaches_its_limit() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (port, ca, _seen) = provider(folder.path()).await;
    // 20 answers a second at $0.01: $0.20 a second, so $1 is reached about 5 s in, of 30.
    let yaml = format!(
        r#"
name: remote-spend
upstreams:
  real: {{ url: "https://localhost:{port}", family: openai, key_env: CHAOS_REMOTE_PROVIDER_KEY }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: remote-model, max_tokens: 2 }} }}
phases:
  - {{ name: only, duration: 30s }}
{PRICES}
max_spend: $1
"#
    );
    let run = run(yaml, &ca, &[("CHAOS_REMOTE_PROVIDER_KEY", "sk-provider")]).await;

    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    assert_eq!(results["verdict"], "halted", "{}", results["verdict"]);
    let halt = &results["halted_by"];
    assert_eq!(halt["condition"], "max_spend: $1", "{halt}");
    let observed = halt["observed"].as_f64().expect("the spend seen");
    let at = halt["at_s"].as_f64().expect("when");
    let spent = results["overall"]["cost_usd"].as_f64().expect("the final spend");
    eprintln!("max_spend $1: halted at {at:.2}s with ${observed:.2} seen, ${spent:.2} spent in all");
    // The guard looks once a second: it sees the limit crossed within a second's spend ($0.20)
    // — a spend that matches when it looked, however late a loaded machine made that — and the
    // requests then in flight (answered at once here) add next to nothing.
    assert!(observed >= 1.0 - 1e-9 && observed <= 0.2 * (at + 0.1) + 0.02, "{halt}");
    assert!(spent >= observed && spent <= observed + 0.05, "spent ${spent} after seeing ${observed}");
    assert!((4.0..8.0).contains(&at), "halted {at}s in");
    assert!(run.stdout.contains("the halt condition `max_spend: $1` held"), "{}", run.stdout);
}

const TARGET_KEY: &str = "sk-target-own-4f1d77";
const PROVIDER_KEY: &str = "sk-provider-secret-9c2e31";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_env_replaces_the_target_s_key_and_no_key_is_written_anywhere() {
    let folder = tempfile::tempdir().expect("temp dir");
    let (port, ca, seen) = provider(folder.path()).await;
    let listen = free_port();
    let yaml = format!(
        r#"
name: remote-key
upstreams:
  real: {{ url: "https://localhost:{port}", family: openai, key_env: CHAOS_REMOTE_PROVIDER_KEY, listen: "127.0.0.1:{listen}" }}
target: {{ url: "http://127.0.0.1:{listen}", api_key_env: CHAOS_REMOTE_TARGET_KEY }}
load: {{ arrival: {{ rate: 10/s }}, request: {{ model: remote-model, max_tokens: 2 }} }}
phases:
  - {{ name: only, duration: 2s }}
{PRICES}
"#
    );
    let authority = format!("127.0.0.1:{listen}");
    let bearer = format!("Bearer {TARGET_KEY}");
    // A target sending its key both ways: neither may reach the provider.
    let direct = tokio::task::spawn_blocking(move || {
        through(&authority, &[("authorization", bearer.as_str()), ("x-api-key", TARGET_KEY)], false)
    });
    let env = &[("CHAOS_REMOTE_TARGET_KEY", TARGET_KEY), ("CHAOS_REMOTE_PROVIDER_KEY", PROVIDER_KEY)];
    let run = run(yaml, &ca, env).await;
    let direct = direct.await.expect("the request through the interposer");

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(direct, (200, ANSWER.to_owned()));
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 15, "{seen:?}");
    let swapped = (format!("Bearer {PROVIDER_KEY}"), String::new());
    assert!(seen.iter().all(|credentials| *credentials == swapped), "the provider saw {seen:?}");

    let mut written =
        vec![("stdout".to_owned(), run.stdout.clone()), ("stderr".to_owned(), run.stderr.clone())];
    for entry in std::fs::read_dir(run.run_folder()).expect("the run folder") {
        let path = entry.expect("an entry").path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("readable")).into_owned();
        written.push((path.display().to_string(), text));
    }
    let names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    for file in ["results.json", "journal.ndjson", "report.html", "summary.md", "junit.xml"] {
        assert!(names.iter().any(|name| name.ends_with(file)), "{file} in {names:?}");
    }
    for (name, text) in &written {
        for key in [TARGET_KEY, PROVIDER_KEY] {
            assert!(!text.contains(key), "{name} holds a key");
        }
    }
}

#[test]
fn a_missing_key_env_is_exit_2_before_anything_starts() {
    let yaml = "name: remote-unset\nupstreams:\n  real: { url: \"https://localhost:9\", family: anthropic, \
                key_env: CHAOS_REMOTE_SURELY_UNSET }\nload: { arrival: { rate: 1/s }, request: { model: m } }\n\
                phases: [{ name: p, duration: 1s }]\n";
    let run = run_binary_in(yaml, &[], &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let expected =
        "error: upstream `real`: `key_env: CHAOS_REMOTE_SURELY_UNSET`: the environment variable is \
                    not set; nothing was started";
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    let made = std::fs::read_dir(&run.reports).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(made, 0, "no run folder");
}

/// Over plain HTTP (a `url` upstream on loopback) the interposer's byte-level path would forward
/// the target's bytes as they came: with `key_env` it must not. A mock that accepts only the
/// swapped key answers 200 through an interposer that swaps, 401 through one that does not.
#[tokio::test]
async fn the_key_is_swapped_on_a_plain_http_upstream_too() {
    use chaos::{metrics::Recorder, mock::MockBuilder, proxy::credential::UpstreamKey, wire::ApiFamily};

    use crate::support::{interposer_config, interposer_with};

    let provider = MockBuilder::new(ApiFamily::OpenAi).keys(vec![PROVIDER_KEY.to_owned()]).spawn().await;
    let provider = provider.expect("a mock provider");
    let upstream = format!("http://{}", provider.addr);
    let recorder = Recorder::new();
    let config = |key: Option<UpstreamKey>| InterposerConfig {
        upstream_key: key,
        ..interposer_config(&upstream, Vec::new(), &recorder)
    };
    let swapping =
        interposer_with(config(Some(UpstreamKey::new(ApiFamily::OpenAi, PROVIDER_KEY).expect("a key"))))
            .await;
    let passing = interposer_with(config(None)).await;
    let bearer = format!("Bearer {TARGET_KEY}");
    let ask = |interposer: chaos::proxy::InterposerHandle| {
        let (authority, bearer) = (interposer.addr.to_string(), bearer.clone());
        tokio::task::spawn_blocking(move || {
            let status = through(&authority, &[("authorization", bearer.as_str())], false).0;
            drop(interposer);
            status
        })
    };
    assert_eq!(ask(swapping).await.expect("an answer"), 200, "the provider's key was presented");
    assert_eq!(ask(passing).await.expect("an answer"), 401, "the target's key passes without key_env");
}
