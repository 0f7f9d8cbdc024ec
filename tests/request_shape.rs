//! Load the way a gateway is called (issue 27, item 4): a request's own headers and body
//! arrive byte for byte as rendered, escaped where JSON needs it; a pool of keys gets figures
//! per key that add up to the run's, and no key's value is written anywhere.

use std::sync::Arc;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::Mutex,
};

use crate::support::{free_port, run_binary_in_envs, run_binary_with};

/// One HTTP/1.1 message read off `stream` after `pending`: its bytes, head and body (framed by
/// `content-length`), or `None` at the end of the stream.
async fn read_message(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |n| n.trim().parse().expect("a length"));
            if pending.len() >= end + 4 + length {
                return Some(pending.drain(..end + 4 + length).collect());
            }
        }
        let mut buffer = [0u8; 8192];
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
        }
    }
}

/// A stand-in gateway: records every request exactly as it arrived and passes it on, unchanged,
/// to `upstream` (the interposer), relaying the answer back.
async fn recording_gateway(upstream: u16) -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a stand-in port");
    let port = listener.local_addr().expect("its address").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = Arc::clone(&recorded);
            tokio::spawn(async move {
                let Ok(mut onward) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                let (mut from_client, mut from_upstream) = (Vec::new(), Vec::new());
                while let Some(request) = read_message(&mut client, &mut from_client).await {
                    seen.lock().await.push(request.clone());
                    let _ = onward.write_all(&request).await;
                    let Some(answer) = read_message(&mut onward, &mut from_upstream).await else { return };
                    let _ = client.write_all(&answer).await;
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_header_and_body_arrive_byte_exact_as_rendered_and_as_valid_json() {
    let interposer = free_port();
    let (gateway, seen) = recording_gateway(interposer).await;
    // The body carries quotes, a backslash and a newline from an environment variable: they
    // must arrive escaped, the body valid JSON.
    let note = "say \"hi\"\\ then\nbye";
    let yaml = format!(
        r#"
name: shaped
upstreams:
  openai: {{ mock: openai, listen: "127.0.0.1:{interposer}" }}
target: {{ url: "http://127.0.0.1:{gateway}", api_key_env: CHAOS_SHAPE_KEY }}
load:
  arrival: {{ rate: 5/s }}
  request:
    model: gpt-4o-mini
    prompt_tokens: 10
    max_tokens: 3
    headers: {{ x-team: "team-{{{{env.CHAOS_SHAPE_TEAM}}}}", x-trace: "chaos-{{{{request_id}}}}" }}
    body:
      model: "{{{{model}}}}"
      messages: [{{ role: user, content: "{{{{prompt}}}}" }}]
      max_tokens: "{{{{max_tokens}}}}"
      metadata: {{ note: "{{{{env.CHAOS_SHAPE_NOTE}}}}", trace: "{{{{request_id}}}}" }}
phases:
  - {{ name: only, duration: 1s }}
"#
    );
    let env =
        [("CHAOS_SHAPE_KEY", "sk-chaos-openai-0"), ("CHAOS_SHAPE_TEAM", "a"), ("CHAOS_SHAPE_NOTE", note)];
    let run = tokio::task::spawn_blocking(move || run_binary_in_envs(&yaml, &env)).await.expect("the run");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    let seen = seen.lock().await.clone();
    // The preflight's three probes came first, shaped as the load's requests are.
    let probe = |request: &Vec<u8>| {
        let text = String::from_utf8_lossy(request);
        let id = text.lines().find_map(|line| line.strip_prefix("x-chaos-request-id: "));
        id.and_then(|id| id.parse::<u64>().ok()).is_some_and(|id| id >= chaos::target::preflight::PROBE_IDS)
    };
    assert_eq!(seen.iter().filter(|request| probe(request)).count(), 3, "the probes");
    let load = seen.iter().filter(|request| !probe(request)).count() as u64;
    assert_eq!(load, results["overall"]["logical_requests"].as_u64().unwrap(), "one each");
    assert_eq!(results["overall"]["join"], "correlation", "the id still reaches the interposer");
    let prompt = &chaos::wire::tokens::prompt_text(10)[..chaos::wire::tokens::prompt_chars(10)];
    for request in &seen {
        let text = String::from_utf8(request.clone()).expect("UTF-8");
        let id: u64 = text
            .lines()
            .find_map(|line| line.strip_prefix("x-chaos-request-id: "))
            .and_then(|id| id.parse().ok())
            .expect("a correlation id");
        let body = format!(
            r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}],"max_tokens":3,"metadata":{{"note":"say \"hi\"\\ then\nbye","trace":"{id}"}}}}"#
        );
        let expected = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{gateway}\r\n\
             authorization: Bearer sk-chaos-openai-0\r\nx-team: team-a\r\nx-trace: chaos-{id}\r\n\
             content-type: application/json\r\nx-chaos-request-id: {id}\r\nx-stainless-retry-count: 0\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(text, expected);
        let sent: serde_json::Value = serde_json::from_str(&body).expect("valid JSON");
        assert_eq!(sent["metadata"]["note"], note, "the value reads back as it was");
    }
}

#[test]
fn a_key_pool_gets_figures_per_key_that_add_up_and_never_shows_a_key() {
    let port = free_port();
    // The target is the interposer itself; the mock holds the two keys, and its second key is
    // rate limited throughout: only TEAM_B's requests get 429s.
    let yaml = format!(
        r#"
name: key-pool
upstreams:
  openai: {{ mock: openai, keys: 2, listen: "127.0.0.1:{port}" }}
target: {{ url: "http://127.0.0.1:{port}", keys_env: [CHAOS_TEAM_A_KEY, CHAOS_TEAM_B_KEY] }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: gpt-4o-mini, max_tokens: 2 }} }}
phases:
  - name: only
    duration: 2s
    faults:
      openai: [{{ status: 429, match: {{ key: 1 }} }}]
"#
    );
    let (team_a, team_b) = ("sk-chaos-openai-0", "sk-chaos-openai-1");
    let run = run_binary_in_envs(&yaml, &[("CHAOS_TEAM_A_KEY", team_a), ("CHAOS_TEAM_B_KEY", team_b)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = run.results();
    let keys = results["keys"].as_array().expect("figures per key");
    let names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["CHAOS_TEAM_A_KEY", "CHAOS_TEAM_B_KEY"]);
    let sum = |field: &str| keys.iter().map(|k| k[field].as_u64().unwrap()).sum::<u64>();
    let overall = &results["overall"];
    assert!(overall["logical_requests"].as_u64().unwrap() >= 30, "{overall}");
    assert_eq!(sum("logical_requests"), overall["logical_requests"].as_u64().unwrap());
    assert_eq!(sum("successes"), overall["successes"].as_u64().unwrap());
    assert_eq!(sum("http_429"), overall["outcomes"]["http_429"].as_u64().unwrap());
    let (a, b) = (&keys[0], &keys[1]);
    assert_eq!((a["availability"].as_f64(), a["http_429"].as_u64()), (Some(1.0), Some(0)), "{a}");
    assert_eq!(b["http_429"], b["logical_requests"], "{b}");
    let share = a["logical_requests"].as_i64().unwrap() - b["logical_requests"].as_i64().unwrap();
    assert!(share.abs() <= 1, "the keys take turns: {a} {b}");
    assert!(a["latency_ms"]["p99"].as_f64().is_some() && b["latency_ms"]["p50"].as_f64().is_some());
    let fingerprints = [a["fingerprint"].as_str().unwrap(), b["fingerprint"].as_str().unwrap()];
    assert_eq!(fingerprints[0], chaos::scenario::key_pool::fingerprint(team_a));
    assert_ne!(fingerprints[0], fingerprints[1]);
    let folder = run.run_folder();
    let report = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
    assert!(report.contains("CHAOS_TEAM_B_KEY") && report.contains(fingerprints[1]), "the keys table");
    for (what, text) in [
        ("results.json", std::fs::read_to_string(folder.join("results.json")).expect("results")),
        ("journal.ndjson", std::fs::read_to_string(folder.join("journal.ndjson")).expect("journal")),
        ("report.html", report),
        ("stdout", run.stdout.clone()),
        ("stderr", run.stderr.clone()),
    ] {
        for key in [team_a, team_b] {
            assert!(!text.contains(key), "{what} shows a key's value");
        }
    }
}

#[test]
fn a_pool_with_a_missing_variable_starts_nothing_and_names_it() {
    let yaml = "name: k\nupstreams: { openai: { mock: openai } }\n\
                target: { url: \"http://127.0.0.1:9\", keys_env: [CHAOS_SURELY_UNSET_TEAM_KEY_93C1] }\n\
                load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini } }\n\
                phases: [{ name: only, duration: 1s }]\n";
    let run = run_binary_with(yaml, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(":3:49: the environment variable `CHAOS_SURELY_UNSET_TEAM_KEY_93C1` is not set"),
        "{}",
        run.stderr
    );
}
