//! Game-day operations on a real run through the binary: live Prometheus metrics whose values
//! move and whose labels all come from bounded sets; the control API adding and removing a
//! fault live (seen in the attempt records), toxiproxy's endpoints, skipping a phase, an
//! emergency stop (exit 4), the bearer token, the loopback rule, and the requests a web page
//! could send (a simple content type, a foreign `Origin` or `Host`) refused.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use chaos::ops::labels::{OUTCOMES, STATUS_CLASSES};

use crate::support::{chaos, http, LiveBinary};

/// The content types a state change must carry.
const JSON: (&str, &str) = ("content-type", "application/json");
const YAML: (&str, &str) = ("content-type", "application/yaml");

const RUN: &str = r#"
name: ops
upstreams:
  openai: { mock: openai }
target:
  builtin: { retries: 0 }
load:
  arrival: { rate: 40/s }
  request: { model: gpt-4o-mini }
phases:
  - { name: calm, duration: 30s }
  - name: rough
    duration: 3s
    faults:
      openai: [{ status: 429, probability: 50% }]
"#;

/// Each sample of an exposition: (name, labels).
fn samples(exposition: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    let mut samples = Vec::new();
    for line in exposition.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (key.to_owned(), value.trim_matches('"').to_owned())
            })
            .collect();
        samples.push((name.to_owned(), labels, value.parse().expect("a number")));
    }
    samples
}

fn total(samples: &[(String, BTreeMap<String, String>, f64)], name: &str) -> f64 {
    samples.iter().filter(|(n, _, _)| n == name).map(|(_, _, v)| v).sum()
}

/// Every label's value comes from a bounded source: the scenario's names or a fixed list.
fn assert_bounded(samples: &[(String, BTreeMap<String, String>, f64)]) {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::from([
        ("scenario", BTreeSet::from(["ops"])),
        ("phase", BTreeSet::from(["calm", "rough"])),
        ("upstream", BTreeSet::from(["openai"])),
        ("outcome", OUTCOMES.into_iter().collect()),
        ("status_class", STATUS_CLASSES.into_iter().collect()),
        ("injected", BTreeSet::from(["true", "false"])),
        ("window", BTreeSet::from(["10s", "30s", "5m", "60s"])),
    ]);
    for (name, labels, _) in samples {
        assert!(name.starts_with("chaos_"), "{name}");
        for (key, value) in labels {
            if key == "le" {
                assert!(value == "+Inf" || value.parse::<f64>().is_ok(), "{name}: le={value}");
                continue;
            }
            let values =
                allowed.get(key.as_str()).unwrap_or_else(|| panic!("{name}: unexpected label {key}"));
            assert!(values.contains(value.as_str()), "{name}: {key}={value} is not from a bounded set");
        }
    }
}

fn status(control: &str, token: &str) -> serde_json::Value {
    let (code, body) = http(control, "GET", "/status", &[("authorization", token)], "");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

/// Waits until the run's clock is past `seconds`; returns the clock then.
fn wait_until(control: &str, token: &str, seconds: f64) -> f64 {
    loop {
        let elapsed = status(control, token)["elapsed_s"].as_f64().expect("elapsed");
        if elapsed >= seconds {
            return elapsed;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_move_during_a_run_with_bounded_labels_and_live_faults_show_in_the_attempts() {
    let mut run = LiveBinary::start(
        RUN,
        &["--metrics", "127.0.0.1:0", "--control", "127.0.0.1:0", "--control-token", "t0k3n"],
    );
    let metrics = run.line_after("metrics: http://").trim_end_matches("/metrics").to_owned();
    let control = run.line_after("control: http://").trim_end_matches('/').to_owned();
    let token = "Bearer t0k3n";

    // Without the token: refused.
    let (code, body) = http(&control, "GET", "/upstreams", &[], "");
    assert_eq!(code, 401, "{body}");

    wait_until(&control, token, 1.5);
    let (code, first) = http(&metrics, "GET", "/metrics", &[], "");
    assert_eq!(code, 200, "{first}");
    let first = samples(&first);

    // A 503 on every attempt, added live; removed two seconds later.
    let yaml = [("authorization", token), YAML];
    let (code, body) = http(&control, "POST", "/upstreams/openai/faults?id=outage", &yaml, "{ status: 503 }");
    assert_eq!(code, 201, "{body}");
    let added = status(&control, token)["elapsed_s"].as_f64().unwrap();
    let (code, body) = http(&control, "POST", "/upstreams/openai/faults", &yaml, "{ status: 7 }");
    assert_eq!(code, 400, "a bad fault is refused: {body}");
    let (code, body) = http(&control, "GET", "/upstreams", &[("authorization", token)], "");
    assert!(code == 200 && body.contains("\"outage\"") && body.contains("status:503"), "{body}");
    wait_until(&control, token, added + 2.0);
    let (code, body) =
        http(&control, "DELETE", "/upstreams/openai/faults/outage", &[("authorization", token)], "");
    assert_eq!(code, 204, "{body}");
    let removed = status(&control, token)["elapsed_s"].as_f64().unwrap();

    // Toxiproxy's shape: a latency toxic is taken, listed and deleted; a slicer is refused.
    let auth = [("authorization", token), JSON];
    let (code, body) = http(
        &control,
        "POST",
        "/proxies/openai/toxics",
        &auth,
        r#"{"type":"latency","attributes":{"latency":1}}"#,
    );
    assert_eq!(code, 200, "{body}");
    let (_, listed) = http(&control, "GET", "/proxies/openai/toxics", &auth, "");
    assert!(listed.contains("latency_downstream"), "{listed}");
    let (code, body) =
        http(&control, "POST", "/proxies/openai/toxics", &auth, r#"{"type":"slicer","attributes":{}}"#);
    assert!(code == 400 && body.contains("not supported"), "{code} {body}");
    let (code, _) = http(&control, "DELETE", "/proxies/openai/toxics/latency_downstream", &auth, "");
    assert_eq!(code, 204);
    let (code, _) = http(&control, "GET", "/proxies/nope/toxics", &auth, "");
    assert_eq!(code, 404);

    let (code, second) = http(&metrics, "GET", "/metrics", &[], "");
    assert_eq!(code, 200);
    let second = samples(&second);
    assert_bounded(&first);
    assert_bounded(&second);
    assert!(total(&second, "chaos_requests_total") > total(&first, "chaos_requests_total"), "requests grew");
    assert!(total(&second, "chaos_attempts_total") > total(&first, "chaos_attempts_total"));
    let injected: f64 = second
        .iter()
        .filter(|(n, l, _)| {
            n == "chaos_attempts_total" && l.get("injected").map(String::as_str) == Some("true")
        })
        .map(|(_, _, v)| v)
        .sum();
    assert!(injected > 10.0, "the live 503s count as injected: {injected}");
    assert!(total(&second, "chaos_request_duration_seconds_count") > 0.0);
    assert_eq!(total(&second, "chaos_phase_index"), 0.0);
    assert_eq!(total(&second, "chaos_halted"), 0.0);

    // Skip the long calm phase: the rough one starts now and the run ends 3 s later.
    let (code, body) = http(&control, "POST", "/phase/skip", &auth, "");
    assert_eq!(code, 202, "{body}");
    let skipped = status(&control, token)["elapsed_s"].as_f64().unwrap();
    let (code, results) = run.finish();
    assert_eq!(code, 0, "{results}");
    assert!(!results.to_string().contains("t0k3n"), "the token never reaches the results");

    let phases = results["phases"].as_array().expect("phases");
    let calm = phases[0]["duration_s"].as_f64().expect("duration");
    assert!((calm - skipped).abs() < 0.5, "calm lasted {calm}s, skipped at {skipped}s");
    assert!(results["elapsed_s"].as_f64() < Some(skipped + 8.0), "{}", results["elapsed_s"]);
    // Injected 503s only while the live fault was there (the rough phase injects 429s).
    let mut live_503s = 0;
    for second in results["attempt_timeline"].as_array().expect("attempt timeline") {
        let at = second["second"].as_f64().expect("second");
        for attempt in second["attempts"].as_array().into_iter().flatten() {
            if attempt["injected"] == true && attempt["status"] == "503" {
                assert!(
                    at + 1.0 > added && at < removed,
                    "an injected 503 in second {at}, fault from {added} to {removed}"
                );
                live_503s += attempt["count"].as_u64().unwrap_or(0);
            }
        }
    }
    assert!(live_503s >= 40, "two seconds of 40/s all answered 503: {live_503s}");
}

#[test]
fn an_emergency_stop_removes_every_fault_and_ends_the_run_halted() {
    let mut run = LiveBinary::start(RUN, &["--control", "127.0.0.1:0"]);
    let control = run.line_after("control: http://").trim_end_matches('/').to_owned();
    wait_until(&control, "", 1.0);
    let (code, body) = http(&control, "POST", "/stop", &[JSON], r#"{"reason":"pager went off"}"#);
    assert_eq!(code, 202, "{body}");
    let (code, results) = run.finish();
    assert_eq!(code, 4);
    assert_eq!(results["verdict"], "halted");
    let halt = &results["halted_by"];
    assert_eq!(halt["by"], "control API: pager went off", "{halt}");
    assert_eq!(halt["phase"], "calm");
    assert!(results["elapsed_s"].as_f64() < Some(10.0));
}

#[test]
fn the_control_api_beyond_loopback_needs_a_token_and_metrics_need_consent() {
    let scenario = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(scenario.path(), RUN).expect("written");
    let path = scenario.path().to_string_lossy().into_owned();
    let (code, _, stderr) = chaos(&["run", &path, "--control", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--control-token"), "{stderr}");
    let (code, _, stderr) = chaos(&["run", &path, "--metrics", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--metrics-allow-remote"), "{stderr}");
}

/// A refusal: the status, and a JSON body whose error names `what`.
fn assert_refused((code, body): (u16, String), status: u16, what: &str) {
    assert_eq!(code, status, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
    let message = error["error"].as_str().expect("an error message");
    assert!(message.contains(what), "{message}");
}

#[test]
fn the_control_api_refuses_what_a_web_page_can_send_and_the_run_goes_on() {
    let mut run = LiveBinary::start(RUN, &["--control", "127.0.0.1:0"]);
    let control = run.line_after("control: http://").trim_end_matches('/').to_owned();
    let port = control.rsplit_once(':').expect("a port").1.to_owned();
    wait_until(&control, "", 0.5);
    let stop = r#"{"reason":"from a web page"}"#;
    let fault = r#"{"status":503}"#;

    // A form or fetch() without preflight: text/plain, or no content type at all.
    let plain = ("content-type", "text/plain");
    assert_refused(http(&control, "POST", "/stop", &[plain], stop), 415, "Content-Type");
    assert_refused(http(&control, "POST", "/upstreams/openai/faults", &[plain], fault), 415, "Content-Type");
    assert_refused(http(&control, "POST", "/phase/skip", &[], ""), 415, "Content-Type");
    // A page of another origin, even with the right content type.
    let attacker = ("origin", "http://attacker.example");
    assert_refused(http(&control, "POST", "/stop", &[JSON, attacker], stop), 403, "Origin");
    assert_refused(
        http(&control, "POST", "/upstreams/openai/faults", &[JSON, attacker], fault),
        403,
        "Origin",
    );
    assert_refused(http(&control, "POST", "/stop", &[JSON, ("origin", "null")], stop), 403, "Origin");
    // DNS rebinding: a foreign name for this address, reading or writing.
    let rebound = format!("attacker.example:{port}");
    let host = ("host", rebound.as_str());
    assert_refused(http(&control, "POST", "/stop", &[JSON, host], stop), 403, "Host");
    assert_refused(http(&control, "GET", "/status", &[host], ""), 403, "Host");

    // Nothing changed: no live fault, the run not halted and still going.
    let (code, upstreams) = http(&control, "GET", "/upstreams", &[], "");
    assert_eq!(code, 200);
    let upstreams: serde_json::Value = serde_json::from_str(&upstreams).expect("JSON");
    assert_eq!(upstreams["upstreams"][0]["live_faults"], serde_json::json!([]), "{upstreams}");
    assert_eq!(status(&control, "")["halted"], false);
    wait_until(&control, "", 2.0);

    // Well-formed requests under every loopback name, with the listener's own origin.
    let localhost = format!("localhost:{port}");
    let own = format!("http://{localhost}");
    let (code, body) = http(
        &control,
        "POST",
        "/upstreams/openai/faults?id=outage",
        &[YAML, ("host", &localhost), ("origin", &own)],
        "{ status: 503 }",
    );
    assert_eq!(code, 201, "{body}");
    let v6 = format!("[::1]:{port}");
    let (code, body) = http(&control, "GET", "/upstreams", &[("host", &v6)], "");
    assert!(code == 200 && body.contains("\"outage\""), "{body}");
    let (code, body) = http(
        &control,
        "POST",
        "/stop",
        &[("content-type", "application/json; charset=utf-8"), ("host", "127.0.0.1")],
        r#"{"reason":"game over"}"#,
    );
    assert_eq!(code, 202, "{body}");
    let (code, results) = run.finish();
    assert_eq!(code, 4);
    assert_eq!(results["halted_by"]["by"], "control API: game over", "only the good stop counted");
}

#[test]
fn the_metrics_listener_refuses_a_foreign_host() {
    let mut run = LiveBinary::start(RUN, &["--metrics", "127.0.0.1:0", "--control", "127.0.0.1:0"]);
    let metrics = run.line_after("metrics: http://").trim_end_matches("/metrics").to_owned();
    let control = run.line_after("control: http://").trim_end_matches('/').to_owned();
    let port = metrics.rsplit_once(':').expect("a port").1.to_owned();

    let rebound = format!("attacker.example:{port}");
    assert_refused(http(&metrics, "GET", "/metrics", &[("host", &rebound)], ""), 403, "Host");
    let localhost = format!("localhost:{port}");
    let (code, body) = http(&metrics, "GET", "/metrics", &[("host", &localhost)], "");
    assert!(code == 200 && body.contains("chaos_run_elapsed_seconds"), "{code} {body}");
    let (code, body) = http(&metrics, "GET", "/metrics", &[], "");
    assert_eq!(code, 200, "by its own address: {body}");

    let (code, _) = http(&control, "POST", "/stop", &[JSON], "");
    assert_eq!(code, 202);
    assert_eq!(run.finish().0, 4);
}
