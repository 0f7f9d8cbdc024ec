//! The browser tier: a real run's `report.html` loaded in headless Chromium (Debian's, driven by
//! playwright-core; `scripts/browser-tools` installs both, as `.ci/run` does on a fresh
//! machine). The page must load with no console error and no request beyond the file, every
//! chart must hold data points and ink them, and the verdict shown must be the one in
//! `results.json`. A full-page screenshot is left at `target/browser-tier/report.png` for
//! people to look at. Fails, never skips, without Chromium or npm.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{sdk_tier::run, support::root};

/// Ten requests a second through a primary whose 429s and 503s push the built-in client onto
/// its fallback, then a second when both fail: every chart has something to show, failures
/// and the burn rate included.
const FALLBACK: &str = r#"
name: browser-tier
description: a short brownout with fallback, for the report's browser test
seed: 11
upstreams:
  openai: { mock: openai, keys: 2, latency: { ttft: 20ms, tokens_per_second: 400 } }
  anthropic: { mock: anthropic, latency: { ttft: 30ms, tokens_per_second: 400 } }
target: { builtin: { upstream: openai, fallbacks: [anthropic], retries: 1, backoff: sdk, timeout: 10s } }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: true, prompt_tokens: 300, max_tokens: 20 }
phases:
  - { name: baseline, duration: 3s }
  - name: brownout
    duration: 4s
    faults:
      openai:
        - { status: 429, probability: 40%, retry_after: 100ms }
        - { status: 503, probability: 30% }
  - name: both-down
    duration: 1s
    faults:
      openai: [{ status: 503 }]
      anthropic: [{ status: 529 }]
  - { name: recovery, duration: 2s }
slo: { availability: 99.9%, period: 30d }
expect:
  - availability{phase=baseline} >= 99%
  - retry_amplification{phase=brownout} < 1.01
prices:
  gpt-4o-mini: { input: 0.15/M, output: 0.60/M }
"#;

const INSTALL_HINT: &str =
    "the browser tier needs Chromium (Debian: apt-get install chromium) and Node.js 20+ \
                            with npm, and the npm registry reachable on the first run";

/// Readies the browser tools (`scripts/browser-tools`); returns their folder.
fn browser_tools() -> String {
    let tools =
        run(&mut Command::new(root().join("scripts/browser-tools")), "scripts/browser-tools", INSTALL_HINT);
    String::from_utf8_lossy(&tools.stdout).lines().last().unwrap_or_default().to_owned()
}

/// Loads `page` in Chromium with `tests/browser/<script>`, which leaves a screenshot at
/// `target/browser-tier/<screenshot>` (returned) and prints what it saw as JSON (returned).
pub fn seen_in_chromium(script: &str, page: &Path, screenshot: &str) -> (serde_json::Value, PathBuf) {
    let tools = browser_tools();
    let shots = root().join("target/browser-tier");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let screenshot = shots.join(screenshot);
    let checked = run(
        Command::new("node")
            .arg(root().join("tests/browser").join(script))
            .arg(page)
            .arg(&screenshot)
            .env("BROWSER_TOOLS", &tools),
        &format!("node tests/browser/{script}"),
        INSTALL_HINT,
    );
    let stdout = String::from_utf8_lossy(&checked.stdout);
    let seen = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"));
    (seen, screenshot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_runs_report_draws_every_chart_in_chromium() {
    // Installing comes first: the run's figures should not share the machine with npm.
    browser_tools();
    let (report, _reports) = crate::support::run_until(FALLBACK, std::future::pending()).await;
    let page = report.folder.join("report.html");
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.folder.join("results.json")).expect("results.json"))
            .expect("results parse");
    let html = std::fs::read_to_string(&page).expect("report.html");
    for secret in ["sk-chaos-", "Bearer ", "sk-chaos-target"] {
        assert!(!html.contains(secret), "the report shows a key ({secret})");
    }

    let (seen, screenshot) = seen_in_chromium("check-report.mjs", &page, "report.png");

    assert_eq!(seen["errors"], serde_json::json!([]), "console errors");
    assert_eq!(seen["requests"], serde_json::json!([]), "the page asked the network for something");
    let verdict = results["verdict"].as_str().expect("a verdict");
    assert_eq!(seen["verdict_attribute"], verdict);
    assert_eq!(seen["verdict"], verdict.to_uppercase());
    let charts = seen["charts"].as_array().expect("charts");
    let burnt = results["burn_timeline"].as_array().expect("burn timeline");
    assert!(burnt.iter().any(|s| s["burn_rate_5m"].as_f64() > Some(0.0)), "both down burnt nothing");
    let ids: Vec<&str> = charts.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["outcomes", "latency", "ttft", "attempts", "burn", "cost", "spectrum"]);
    for chart in charts {
        assert!(chart["points"].as_u64() > Some(0), "no data points: {chart}");
        assert!(chart["ink"].as_u64() > Some(50), "drew nothing visible: {chart}");
    }
    // The fallback shows: attempts stacked by upstream and status have at least the primary's
    // successes, its injected failures and the fallback's successes.
    let attempts = charts.iter().find(|c| c["id"] == "attempts").expect("attempts chart");
    assert!(attempts["series"].as_u64() >= Some(3), "{attempts}");
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
}
