//! The load generator against real sockets: coordinated omission, arrival rates, the three
//! kinds of target, and its honesty about itself.

use chaos::{analysis::Figures, mock::MockBuilder, wire::ApiFamily};

/// The targets here stand in for a gateway (a counting server, a web server answering 501) to
/// test the load itself, so no preflight probes them.
async fn run(yaml: &str) -> (chaos::runner::RunReport, tempfile::TempDir) {
    crate::support::run_without_preflight(yaml).await
}

fn p99_ms(figures: &Figures, which: fn(&Figures) -> Option<chaos::analysis::Percentiles>) -> f64 {
    which(figures).map_or(f64::NAN, |p| p.p99)
}

const ONE_STALL: &str = r#"
name: co-one-stall
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 50/s }
  connections: 1
  request: { model: gpt-4o-mini, max_tokens: 5 }
phases:
  - name: stall
    duration: 6s
    faults:
      openai: [{ latency: 2s, first: 1 }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stall_shows_in_corrected_p99_and_not_in_service_time() {
    let (report, _reports) = run(ONE_STALL).await;
    let stall = &report.results.phases[0];
    assert_eq!(stall.logical_requests, 300);
    // One request stalled 2 s on the only connection; the ~100 meant to start behind it waited.
    let corrected = p99_ms(stall, |f| f.latency_ms);
    let uncorrected = p99_ms(stall, |f| f.service_time_ms);
    assert!(corrected > 1500.0, "corrected p99 {corrected} ms should show the 2 s stall");
    assert!(uncorrected < 500.0, "service-time p99 {uncorrected} ms should not: only 1 of 300 stalled");
    assert!(report.results.generator.kept_up, "{:?}", report.results.generator);
}

fn rate_scenario(process: &str, target_port: u16) -> String {
    format!(
        r#"
name: rate-{process}
seed: 7
upstreams:
  openai: {{ mock: openai }}
target: {{ url: "http://127.0.0.1:{target_port}" }}
load:
  arrival: {{ rate: 500/s, process: {process} }}
  request: {{ model: gpt-4o-mini, max_tokens: 1 }}
phases:
  - {{ name: steady, duration: 30s }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_and_poisson_arrivals_hold_500_per_second_within_two_percent() {
    let target = MockBuilder::new(ApiFamily::OpenAi).spawn().await.expect("a mock target");
    let port = target.addr.port();
    let (constant, poisson) = (rate_scenario("constant", port), rate_scenario("poisson", port));
    let (constant, poisson) = tokio::join!(run(&constant), run(&poisson));
    let mut total_sent = 0;
    for (report, _reports) in [constant, poisson] {
        let results = &report.results;
        let generator = &results.generator;
        let sent = generator.sent as f64;
        assert!((sent / 30.0 - 500.0).abs() <= 10.0, "{}: {sent} sent in 30 s", results.scenario.name);
        // Every start went out within 0.6 s (2 % of the window) of its instant, so the rate
        // the target saw over the window is within 2 % too.
        let late_ms = generator.lag_ms.map_or(f64::NAN, |lag| lag.max);
        assert!(late_ms < 600.0 && generator.missed == 0, "{}: {generator:?}", results.scenario.name);
        assert_eq!(results.overall.successes, generator.sent, "{}", results.scenario.name);
        total_sent += generator.sent;
    }
    assert_eq!(target.counters().requests(), total_sent, "the target saw every request");
}

/// A target the harness starts: a shell that leaves a grandchild behind in its group and then
/// becomes a Python web server (it answers `GET /` for health, and 501 to the load's POSTs).
const COMMAND_TARGET: &str = r#"
name: command-target
upstreams:
  openai: { mock: openai }
target:
  command: 'sleep 300 & echo "grandchild $!"; echo "shell $$ to {{upstreams.openai.url}}"; exec python3 -u -m http.server {{port}} --bind 127.0.0.1'
  env: { GATEWAY_UPSTREAM: "{{upstreams.openai.url}}" }
  startup_timeout: 20s
load:
  arrival: { rate: 20/s }
  request: { model: gpt-4o-mini }
phases:
  - { name: only, duration: 1s }
"#;

fn pid_after(log: &str, word: &str) -> i32 {
    let line =
        log.lines().find(|l| l.starts_with(word)).unwrap_or_else(|| panic!("no `{word}` line in:\n{log}"));
    line.split_whitespace().nth(1).and_then(|pid| pid.parse().ok()).expect("a pid")
}

/// Whether a process runs (a zombie, dead but not yet reaped by whoever adopted it, does not).
fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, None | Some('Z'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_target_is_started_logged_and_stopped_with_its_children() {
    let (report, _reports) = run(COMMAND_TARGET).await;
    let log = std::fs::read_to_string(report.folder.join("target.log")).expect("the target's log");
    let (shell, grandchild) = (pid_after(&log, "shell"), pid_after(&log, "grandchild"));
    assert!(log.contains("shell") && log.contains(" to http://127.0.0.1:"), "placeholders filled: {log}");
    assert!(log.contains("POST /v1/chat/completions"), "the target's own output is captured: {log}");
    // Stopped means gone: the server (the shell's pid, after exec) and the grandchild it left.
    for _ in 0..50 {
        if !alive(shell) && !alive(grandchild) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!alive(shell), "the target {shell} is still running");
    assert!(!alive(grandchild), "its child {grandchild} was left behind");
    let only = &report.results.phases[0];
    assert_eq!(only.outcomes.get("http_501"), Some(&20), "every request reached the started target");
}

const NEVER_HEALTHY: &str = r#"
name: never-healthy
upstreams:
  openai: { mock: openai }
target:
  command: 'sleep 300 & echo "grandchild $!"; echo "shell $$"; exec sleep 301'
  startup_timeout: 1s
load:
  arrival: { rate: 1/s }
  request: { model: gpt-4o-mini }
phases:
  - { name: only, duration: 1s }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_never_gets_healthy_fails_the_run_and_is_killed() {
    let reports = tempfile::tempdir().expect("temp dir");
    let options = chaos::runner::RunOptions::new(reports.path().to_owned());
    let plan = crate::support::plan(NEVER_HEALTHY);
    let error =
        chaos::runner::execute(&plan, &options, std::future::pending()).await.expect_err("no health, no run");
    assert!(format!("{error:#}").contains("did not answer 2xx"), "{error:#}");
    let folder = std::fs::read_dir(reports.path()).unwrap().next().unwrap().unwrap().path();
    let log = std::fs::read_to_string(folder.join("target.log")).expect("the target's log");
    for pid in [pid_after(&log, "shell"), pid_after(&log, "grandchild")] {
        for _ in 0..50 {
            if !alive(pid) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(!alive(pid), "{pid} outlived a failed start");
    }
}

const STEPS_RAMP_BURST: &str = r#"
name: shapes
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 10/s }
  bursts: [{ at: 4s, requests: 40 }]
  request: { model: gpt-4o-mini, max_tokens: 1 }
phases:
  - { name: step, duration: 2s }
  - { name: ramp, duration: 2s, arrival: { ramp: [10/s, 50/s] } }
  - { name: spike, duration: 1s, arrival: { rate: 20/s } }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_ramps_and_bursts_send_what_the_timeline_says() {
    let (report, _reports) = run(STEPS_RAMP_BURST).await;
    let counts: Vec<u64> = report.results.phases.iter().map(|p| p.logical_requests).collect();
    // 10/s for 2 s; the area under 10 → 50/s over 2 s; 20/s for 1 s plus the burst of 40.
    assert_eq!(counts, [20, 60, 60]);
    assert_eq!(report.results.overall.successes, 140);
    // Second by second: every answer lands in one second, the burst's in second 4.
    let timeline = &report.results.timeline;
    assert_eq!(timeline.iter().map(|s| s.finished).sum::<u64>(), 140);
    let burst_second = timeline.iter().find(|s| s.second == 4).expect("second 4");
    assert!(burst_second.finished >= 40 + 20, "{burst_second:?}");
}

const CLOSED_USERS: &str = r#"
name: closed
upstreams:
  openai: { mock: openai, latency: { ttft: 50ms } }
load:
  arrival: { users: 3, think: 50ms }
  request: { model: gpt-4o-mini, max_tokens: 1 }
phases:
  - { name: only, duration: 2s }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_users_wait_for_each_answer_then_think() {
    let (report, _reports) = run(CLOSED_USERS).await;
    let only = &report.results.phases[0];
    // Each user's cycle is at least 100 ms (50 ms answer + 50 ms think): at most 20 each in 2 s.
    assert!((40..=63).contains(&only.logical_requests), "{}", only.logical_requests);
    let (latency, service) = (only.latency_ms.unwrap().p50, only.service_time_ms.unwrap().p50);
    assert!(
        latency >= 50.0 && (latency - service).abs() < 5.0,
        "no schedule, no omission: {latency} vs {service}"
    );
}

const FALLBACK: &str = r#"
name: fallback
upstreams:
  openai: { mock: openai }
  anthropic: { mock: anthropic, latency: { ttft: 100ms, tokens_per_second: 100 } }
target:
  builtin: { upstream: openai, fallbacks: [anthropic], retries: 2, backoff: naive }
load:
  arrival: { rate: 10/s }
  request: { model: gpt-4o-mini, stream: true, max_tokens: 11 }
phases:
  - name: primary-down
    duration: 2s
    faults:
      openai: [{ status: 503, retry_after: 10s }]
expect:
  - fallback_rate{phase=primary-down} >= 99%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_retries_then_a_streamed_fallback_in_the_other_api() {
    let (report, _reports) = run(FALLBACK).await;
    let down = &report.results.phases[0];
    assert_eq!(down.availability, Some(1.0), "{:?}", down.outcomes);
    // Three immediate attempts on the primary (retry-after ignored), then one on the fallback.
    assert_eq!(down.retry_amplification, Some(4.0));
    let latency = down.latency_ms.expect("latencies");
    assert!(latency.max < 2000.0, "naive retries do not wait 10 s: {latency:?}");
    // The fallback streamed Anthropic events: 11 tokens each, the first after ~100 ms.
    assert_eq!(down.output_tokens, 20 * 11);
    let ttft = down.ttft_ms.expect("ttft");
    assert!((100.0..1000.0).contains(&ttft.p50), "{ttft:?}");
    assert!(down.itl_ms.is_some_and(|itl| itl.p50 >= 5.0), "10 ms per token at 100 tok/s");
    assert_eq!(down.attempt_statuses.get("503"), Some(&60), "the interposers saw 3 × 20 on the primary");
    assert_eq!(down.attempt_statuses.get("200"), Some(&20), "and 20 on the fallback");
    assert_eq!(down.fallback_rate, Some(1.0));
    assert_eq!(down.served_by.get("anthropic"), Some(&20));
    assert_eq!(report.results.expectations[0].status, chaos::assert::CheckStatus::Pass);
}

const HELD_UP: &str = r#"
name: held-up
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 20/s }
  max_in_flight: 5
  request: { model: gpt-4o-mini }
phases:
  - name: slow
    duration: 1s
    faults:
      openai: [{ latency: 1s }]
expect:
  - availability >= 0%
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_starts_make_the_run_invalid_not_the_target_guilty() {
    let (report, _reports) = run(HELD_UP).await;
    let results = &report.results;
    // Five requests wait out the second-long delay; the 15 starts behind them find no room.
    assert_eq!((results.generator.sent, results.generator.missed), (5, 15), "{:?}", results.generator);
    assert!(!results.generator.kept_up);
    assert_eq!(results.verdict, chaos::assert::Verdict::Invalid);
    assert_eq!(chaos::exit_for(results.verdict).code(), 3);
}

const HIGH_RATE: &str = r#"
name: high-rate
upstreams:
  openai: { mock: openai }
load:
  arrival: { rate: 12000/s }
  connections: 50
  max_in_flight: 12000   # 6,000 a thread: no start is skipped however slow a debug build is
  max_lag: 10s
  request: { model: gpt-4o-mini, max_tokens: 1 }
phases:
  - { name: fast, duration: 500ms }
"#;

/// Above one thread's share (10,000 /s) the starts are dealt over load threads of their own, one
/// per core: each start still goes out once, is numbered once and is answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_rate_is_dealt_over_load_threads_and_every_start_counted_once() {
    let (report, _reports) = run(HIGH_RATE).await;
    let results = &report.results;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    assert_eq!(results.generator.threads as usize, cores.min(2), "{:?}", results.generator);
    assert_eq!((results.generator.sent, results.generator.missed), (6000, 0), "{:?}", results.generator);
    let fast = &results.phases[0];
    assert_eq!(fast.logical_requests, 6000, "every start recorded once, none merged by a shared number");
    assert_eq!(fast.outcomes.get("ok").copied(), Some(6000), "{:?}", fast.outcomes);
    assert_eq!(fast.attempts, 6000, "each start reached the interposer once");
    // Two starts with one number would join as one request answered twice.
    assert_eq!(fast.duplicate_requests, 0, "no two starts share a number");
    let html = std::fs::read_to_string(report.folder.join("report.html")).unwrap();
    assert_eq!(
        html.contains(&format!("; {} load threads", cores.min(2))),
        cores > 1,
        "the report's header says so"
    );
}
