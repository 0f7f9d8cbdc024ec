//! The table of `benches/peers.sh` (`benches/peers_report.py`) from made-up oha JSON, so the
//! peer benchmark's verdicts are checked in CI without oha, HAProxy or nginx: figures paired by
//! round, the 1 % path's injected 503s counted and allowed, any other non-2xx marking its row
//! invalid (exit 2), the issue's goals met or not from the medians, and several runs' goals set
//! side by side (`benches/peers_goals.py`).

use std::{path::Path, process::Command};

/// One oha run as `oha --output-format json` writes it (the fields the report reads).
fn oha_json(p50_us: f64, rps: f64, statuses: &[(&str, u64)]) -> String {
    let statuses: Vec<String> = statuses.iter().map(|(code, n)| format!("\"{code}\": {n}")).collect();
    format!(
        r#"{{"summary": {{"requestsPerSec": {rps}}}, "latencyPercentiles": {{"p50": {}, "p99": {}}},
            "statusCodeDistribution": {{{}}}, "errorDistribution": {{}}}}"#,
        p50_us / 1e6,
        p50_us * 2.0 / 1e6,
        statuses.join(", ")
    )
}

/// A path's name, p50 µs, saturated req/s and the statuses its saturated runs answered.
type PathFigures<'a> = (&'a str, f64, f64, &'a [(&'a str, u64)]);

/// Writes the POST runs for the paths (three latency rounds, two saturated) and runs the report
/// over them; its exit code and output.
fn report(dir: &Path, runs: &[PathFigures]) -> (i32, String) {
    write_runs(dir, runs, "post");
    let paths: Vec<&str> = runs.iter().map(|run| run.0).collect();
    run_report(dir, &paths, "post", "0")
}

/// Writes `request` runs for the paths, three latency rounds and two saturated ones as
/// `benches/peers.sh` counts them apart: round 2 is 10 % slower everywhere and round 3 5 %, each
/// run with 1 s of the proxy's CPU and 1.12 s of the client's.
fn write_runs(dir: &Path, runs: &[PathFigures], request: &str) {
    for (path, p50, rps, statuses) in runs {
        for (mode, rounds) in [("rate", 3), ("sat", 2)] {
            for round in 1..=rounds {
                // A paired figure does not move with the round.
                let slower = [1.0, 1.1, 1.05][round - 1];
                let run = match mode {
                    "rate" => oha_json(p50 * slower, 2000.0, &[("200", 16_000)]),
                    _ => oha_json(p50 * slower, rps / slower, statuses),
                };
                let name = format!("{path}-{request}-{mode}-{round}");
                std::fs::write(dir.join(format!("{name}.json")), run).unwrap();
                // 1 s of CPU at 100 ticks a second over each run; the client's 1.12 s (user, system).
                std::fs::write(dir.join(format!("{name}.ticks")), "100").unwrap();
                std::fs::write(dir.join(format!("{name}.client")), "0.50 0.62\n").unwrap();
            }
        }
    }
}

/// Runs the report over the `request` runs of `paths` written to `dir` (`one_chunk`: "1" for an
/// upstream that sends each answer as one chunk); its exit code and output.
fn run_report(dir: &Path, paths: &[&str], request: &str, one_chunk: &str) -> (i32, String) {
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers_report.py"))
        .env("OUT", dir)
        .env("PATHS", paths.join(" "))
        .env("REQUESTS", request)
        .env("ONE_CHUNK", one_chunk)
        .envs([
            ("ROUNDS", "2"),
            ("RATE_ROUNDS", "3"),
            ("RATE", "2000"),
            ("CONNS", "50"),
            ("RATE_SECS", "8"),
            ("SAT_SECS", "8"),
        ])
        .envs([("STREAM_TOKENS", "8"), ("ELAPSED", "1"), ("CLK_TCK", "100"), ("UPTIME_BEFORE", "-")])
        .envs([
            ("UPTIME_AFTER", "-"),
            ("OHA_VERSION", "1"),
            ("HAPROXY_VERSION", "2.6"),
            ("NGINX_VERSION", "1.22"),
        ])
        .envs([("CHAOS_VERSION", "chaos 0"), ("COMMIT", "abc"), ("CPU_MODEL", "cpu"), ("NPROC", "2")])
        .output()
        .expect("python3 runs (Debian: apt-get install python3)");
    code_and_text(output)
}

/// A script's exit code and what it printed (standard output, then standard error).
fn code_and_text(output: std::process::Output) -> (i32, String) {
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_peer_table_pairs_rounds_counts_injected_503s_and_judges_the_goals() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = report(
        dir.path(),
        &[
            ("direct", 100.0, 20_000.0, &[("200", 160_000)]),
            ("chaos", 150.0, 14_000.0, &[("200", 112_000)]),
            ("fault1", 170.0, 13_000.0, &[("200", 103_000), ("503", 1_000)]),
        ],
    );
    assert_eq!(code, 0, "{text}");
    // Paired by round: +50, +55 and +52.5 µs over the three latency rounds, median +52 (rounded
    // from 52.5); 0.70× in both saturated rounds.
    assert!(text.contains("| `chaos proxy`, no fault | 158 (150…165) | +52 (+50…+55) |"), "{text}");
    assert!(text.contains("| 0.70× (0.70×…0.70×) |"), "{text}");
    assert!(text.contains("open model, 3 round(s)"), "{text}");
    assert!(text.contains("saturated, 2 round(s)"), "{text}");
    // 1 s of CPU over 112,000 answers per round, and the client's 1.12 s.
    assert!(text.contains("| 8.9 (8.9…8.9) | 10.0 (10.0…10.0) |"), "{text}");
    // The 1 % path's 503s: counted over every run of the row (3 × 16,000 + 2 × 104,000 answers).
    assert!(text.contains("503s injected: 2000 of 256000 (0.78%)"), "{text}");
    assert!(
        text.contains(
            "- POST added p50 ≤ +58 µs: **met**, +52.5 (rounds: +50.0, +55.0, +52.5; met in 3 of 3)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "- POST saturated throughput ≥ 0.67× direct: **met**, 0.700× (rounds: 0.700×, 0.700×; met in 2"
        ),
        "{text}"
    );
    // 13,000 ÷ 14,000 = 0.929×: not within 0.95× of no fault; +21 µs: not within +10 µs. A goal's
    // figure has a digit more than the table's.
    assert!(
        text.contains(
            "- POST, 503 at 1 % firing: saturated throughput ≥ 0.95× no fault: **not met**, 0.929×"
        ),
        "{text}"
    );
    assert!(
        text.contains("- POST, 503 at 1 % firing: added p50 within +10 µs of no fault: **not met**, +21.0"),
        "{text}"
    );
    // No HAProxy row and no stream: those goals are not measured, never met.
    assert!(
        text.contains("- stream saturated throughput ≥ HAProxy's (chaos ÷ HAProxy ≥ 1): **not measured**"),
        "{text}"
    );
}

#[test]
fn a_peer_row_with_an_answer_that_is_not_2xx_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = report(
        dir.path(),
        &[
            ("direct", 100.0, 20_000.0, &[("200", 160_000)]),
            // A 503 where no fault injects one: the proxy failed under saturation.
            ("haproxy", 130.0, 15_000.0, &[("200", 119_000), ("503", 1_000)]),
        ],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("| HAProxy 2.6 `mode http` |"), "{text}");
    assert!(text.contains("**INVALID**"), "{text}");
    assert!(
        text.contains("- haproxy post: haproxy-post-sat-1: statuses {'200': 119000, '503': 1000}"),
        "{text}"
    );
}

#[test]
fn the_stream_budget_is_what_haproxy_and_its_client_spend_less_what_chaos_s_client_spends() {
    let dir = tempfile::tempdir().unwrap();
    write_runs(
        dir.path(),
        &[
            ("direct", 100.0, 20_000.0, &[("200", 160_000)]),
            ("chaos", 150.0, 10_000.0, &[("200", 80_000)]),
            ("haproxy", 140.0, 12_500.0, &[("200", 100_000)]),
        ],
        "stream",
    );
    // chaos's client spends 2.0 s over the 80,000 answers of each saturated run: 25.0 µs each.
    for round in 1..=2 {
        std::fs::write(dir.path().join(format!("chaos-stream-sat-{round}.client")), "1.5 0.5\n").unwrap();
    }
    let (code, text) = run_report(dir.path(), &["direct", "chaos", "haproxy"], "stream", "1");
    assert_eq!(code, 0, "{text}");
    // HAProxy: 1 s of CPU and 1.12 s of its client's over 100,000 answers, 10.0 and 11.2 µs each;
    // chaos's client 25.0 µs: 10.0 + 11.2 − 25.0 = −3.8 µs left for chaos.
    assert!(
        text.contains(
            "and still match HAProxy's throughput (HAProxy's CPU + its client's − chaos's client's): -3.8 µs"
        ),
        "{text}"
    );
    assert!(text.contains("| direct → HAProxy → mock (one chunk) |"), "{text}");
    assert!(text.contains("from an upstream that sends it as one chunk"), "{text}");
    assert!(text.contains("upstream: HAProxy in front of the mock, one chunk an answer"), "{text}");
}

/// Runs `benches/peers_goals.py` over the runs left in `dirs`; its exit code and output.
fn goals_over(dirs: &[&Path]) -> (i32, String) {
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers_goals.py"))
        .args(dirs)
        .output()
        .expect("python3 runs");
    code_and_text(output)
}

#[test]
fn the_goals_of_several_runs_are_set_side_by_side_and_counted() {
    let (met, missed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let direct: PathFigures = ("direct", 100.0, 20_000.0, &[("200", 160_000)]);
    // +52.5 µs over direct in one run, +63.0 in the other: the +58 µs bound met once.
    let runs = [(met.path(), 150.0), (missed.path(), 160.0)];
    for (dir, chaos_p50) in runs {
        let (code, text) = report(dir, &[direct, ("chaos", chaos_p50, 14_000.0, &[("200", 112_000)])]);
        assert_eq!(code, 0, "{text}");
    }
    let (code, text) = goals_over(&[met.path(), missed.path()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Goals of issue 31 over 2 runs (upstream: provider):"), "{text}");
    assert!(
        text.contains(concat!(
            "| POST added p50 ≤ +58 µs | **met**, +52.5 (3/3 rounds) ",
            "| not met, +63.0 (0/3 rounds) | 1 of 2 runs |"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "| POST saturated throughput ≥ 0.67× direct | **met**, 0.700× (2/2 rounds) | **met**, 0.700×"
        ),
        "{text}"
    );
    // No stream was run: never counted as met.
    assert!(
        text.contains(concat!(
            "| stream saturated throughput ≥ HAProxy's (chaos ÷ HAProxy ≥ 1) ",
            "| not measured | not measured | not measured |"
        )),
        "{text}"
    );

    // A one-chunk run beside a provider-framed one is refused, naming both.
    let one_chunk = tempfile::tempdir().unwrap();
    write_runs(one_chunk.path(), &[direct], "stream");
    let (code, text) = run_report(one_chunk.path(), &["direct"], "stream", "1");
    assert_eq!(code, 0, "{text}");
    let (code, text) = goals_over(&[met.path(), one_chunk.path()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("different upstreams"), "{text}");
    assert!(text.contains(": one chunk"), "{text}");
}
