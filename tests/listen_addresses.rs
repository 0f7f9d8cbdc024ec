//! A gateway that already runs is pointed at the interposers before the run: `listen:` and
//! `--listen NAME=ADDR` fix their addresses, the run prints them with the lines to paste into a
//! gateway, an address in use stops the run before anything starts (exit 2, naming the
//! upstream), and a relative `--reports` works with a `command` target that runs elsewhere.

use std::net::TcpListener;

use crate::support::{chaos, free_port, root, run_binary_in_env, run_binary_with};

#[test]
fn a_fixed_listen_address_carries_the_load_and_is_announced_for_a_gateway() {
    let port = free_port();
    // The `url` target is the interposer itself: what a gateway configured with the printed
    // `api_base` would send there, the load sends directly.
    let yaml = format!(
        r#"
name: fixed-listen
upstreams:
  openai: {{ mock: openai, listen: "127.0.0.1:{port}" }}
target: {{ url: "http://127.0.0.1:{port}", api_key_env: CHAOS_LISTEN_TEST_KEY }}
load: {{ arrival: {{ rate: 20/s }}, request: {{ model: gpt-4o-mini, max_tokens: 2 }} }}
phases:
  - {{ name: only, duration: 2s }}
expect:
  - availability >= 99%
"#
    );
    // The mock's first key, as the gateway would hold it.
    let run = run_binary_in_env(&yaml, "CHAOS_LISTEN_TEST_KEY", "sk-chaos-openai-0");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run
        .stdout
        .contains(&format!("interposer for upstream `openai` (openai): http://127.0.0.1:{port}")));
    assert!(run.stdout.contains(&format!("  OPENAI_BASE_URL=http://127.0.0.1:{port}/v1")), "{}", run.stdout);
    let results = run.results();
    let overall = &results["overall"];
    assert!(overall["logical_requests"].as_u64().unwrap_or(0) >= 20, "{overall}");
    assert_eq!(overall["attempts"], overall["logical_requests"], "every request went through the interposer");
}

#[test]
fn an_address_in_use_is_exit_2_naming_the_upstream_and_nothing_starts() {
    let held = TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let addr = held.local_addr().expect("its address");
    let yaml = "name: held\nupstreams: { openai: { mock: openai } }\n\
                load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini } }\n\
                phases: [{ name: only, duration: 1s }]\n";
    let listen = format!("openai={addr}");
    let run = run_binary_with(yaml, &["--listen", &listen]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&format!("cannot listen on {addr} for upstream `openai`")), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was started"), "{}", run.stderr);
    let reports = std::path::Path::new(&run.reports);
    let made = std::fs::read_dir(reports).map(|entries| entries.count()).unwrap_or(0);
    assert_eq!(made, 0, "no run folder is made when an interposer cannot listen");

    let unknown = run_binary_with(yaml, &["--listen", "claude=127.0.0.1:0"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("no upstream is named `claude`"), "{}", unknown.stderr);
}

#[test]
fn a_relative_reports_folder_works_with_a_command_target_that_runs_elsewhere() {
    // The command runs in the scenario's folder; `{{dir}}` (the run's folder) must still name
    // the folder under where `chaos` started. The health check reads a file the run put there.
    let scenario_folder = tempfile::tempdir().expect("a scenario folder");
    let scenario = scenario_folder.path().join("scenario.yaml");
    std::fs::write(
        &scenario,
        "name: relative-reports\nupstreams: { openai: { mock: openai } }\ntarget:\n  \
         command: python3 -m http.server {{port}} --bind 127.0.0.1 --directory {{dir}}\n  \
         health: http://127.0.0.1:{{port}}/journal.ndjson\n  startup_timeout: 20s\n  timeout: 5s\n\
         load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini, max_tokens: 2 } }\n\
         phases: [{ name: only, duration: 1s }]\n",
    )
    .expect("scenario written");
    let reports_folder = tempfile::tempdir_in(root().join("target")).expect("a reports folder");
    let relative = reports_folder.path().strip_prefix(root()).expect("under the repository");
    let (scenario, relative) = (scenario.to_string_lossy(), relative.to_string_lossy());
    let (code, stdout, stderr) = chaos(&["run", &scenario, "--reports", &relative, "--no-preflight"]);
    assert!(![2, 70].contains(&code), "exit {code}\n{stdout}\n{stderr}");
    let runs: Vec<_> = std::fs::read_dir(reports_folder.path()).expect("the reports folder").collect();
    assert_eq!(runs.len(), 1, "one run folder under the relative --reports");
    let run = runs[0].as_ref().expect("an entry").path();
    assert!(run.join("results.json").is_file(), "{}", run.display());
}

#[test]
fn a_gateway_target_is_not_sped_up_unless_the_user_says_they_know() {
    let yaml = "name: sped\nupstreams: { openai: { mock: openai } }\n\
                target: { url: \"http://127.0.0.1:9\" }\n\
                load: { arrival: { rate: 5/s }, request: { model: gpt-4o-mini } }\n\
                phases: [{ name: only, duration: 60s }]\n";
    let run = run_binary_with(yaml, &["--speed", "10"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--speed 10 with a `url` target: a gateway or a real provider runs on its own clock"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--speed-real-target"), "{}", run.stderr);
    let (code, stdout, stderr) = chaos(&["validate", &run.scenario, "--speed", "10", "--speed-real-target"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(" at speed 10: "), "{stdout}");
}
