//! The table `chaos bench` prints: each figure beside its baseline from the same run and, for
//! the full profile, the project's target for it.

use std::fmt::Write;

use super::{
    generator::GeneratorFigures,
    interposer::InterposerFigures,
    streams::{PacedStreams, StreamFigures},
    BenchReport, Profile,
};

/// The project's targets (issue 10), at the full profile's loads.
mod target {
    pub const ADDED_P50_US: f64 = 50.0;
    pub const ADDED_P99_US: f64 = 200.0;
    pub const THROUGHPUT_RATIO: f64 = 0.6;
    pub const INTER_TOKEN_P99_MS: f64 = 2.0;
    pub const MOCK_RSS_MB: f64 = 200.0;
}

/// The bench as a plain-text table.
pub fn render_table(bench: &BenchReport) -> String {
    let mut out = String::new();
    let cpus = bench.environment.cpus.map_or("? CPUs".to_owned(), |n| format!("{n} CPUs"));
    let _ = writeln!(
        out,
        "chaos bench ({:?} profile), {}, {} {}, {} build, {}",
        bench.profile,
        cpus,
        bench.environment.os,
        bench.environment.arch,
        bench.environment.build_profile,
        bench.measured_at
    );
    if bench.environment.build_profile == "debug" {
        let _ =
            writeln!(out, "(a debug build measures its own debug overhead: use a release build for figures)");
    }
    let judged = bench.profile == Profile::Full;
    if !judged {
        let _ = writeln!(out, "(targets are stated at the full profile's loads; not judged here)");
    }
    if let Some(figures) = &bench.interposer {
        interposer(&mut out, figures, judged);
    }
    if let Some(figures) = &bench.generator {
        generator(&mut out, figures);
    }
    if let Some(figures) = &bench.streams {
        streams(&mut out, figures, judged);
    }
    let _ = writeln!(out, "took {:.0} s", bench.took_s);
    out
}

/// `met` / `missed` against a bound, or nothing when not judged.
fn verdict(judged: bool, value: Option<f64>, meets: impl Fn(f64) -> bool) -> &'static str {
    match (judged, value) {
        (false, _) => "",
        (true, Some(v)) if meets(v) => "met",
        (true, _) => "missed",
    }
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or("—".to_owned(), |v| format!("{v:.digits$}"))
}

fn interposer(out: &mut String, f: &InterposerFigures, judged: bool) {
    let l = &f.load;
    let _ = writeln!(
        out,
        "\ninterposer, no fault (`chaos proxy` → `chaos mock`): {} round(s) of {:.0} s; service time at {}/s open \
         model, {} connections; throughput with {} closed-model users{}",
        l.rounds,
        l.seconds,
        l.rate,
        l.connections,
        l.connections,
        if f.valid { "" } else { " — INVALID: a run had failures or fell behind" }
    );
    let _ = writeln!(
        out,
        "  {:<24}{:>12}{:>12}{:>12}{:>14}  target",
        "", "direct", "through", "added", "relay adds"
    );
    let first = f.rounds.first();
    let row = |name: &str,
               [direct, through]: [Option<f64>; 2],
               digits,
               [added, floor]: [String; 2],
               target: String,
               mark| {
        format!(
            "  {name:<24}{:>12}{:>12}{added:>12}{floor:>14}  {target:<10}{mark}\n",
            opt(direct, digits),
            opt(through, digits)
        )
    };
    let micros = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:+.0} µs"));
    let times = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}×"));
    out.push_str(&row(
        "p50, ms",
        [first.and_then(|r| r.direct_p50_ms), first.and_then(|r| r.proxied_p50_ms)],
        3,
        [micros(f.added_p50_us), micros(f.relay_added_p50_us)],
        format!("≤ +{:.0} µs", target::ADDED_P50_US),
        verdict(judged, f.added_p50_us, |v| v <= target::ADDED_P50_US),
    ));
    out.push_str(&row(
        "p99, ms",
        [first.and_then(|r| r.direct_p99_ms), first.and_then(|r| r.proxied_p99_ms)],
        3,
        [micros(f.added_p99_us), micros(f.relay_added_p99_us)],
        format!("≤ +{:.0} µs", target::ADDED_P99_US),
        verdict(judged, f.added_p99_us, |v| v <= target::ADDED_P99_US),
    ));
    out.push_str(&row(
        "throughput, req/s",
        [first.map(|r| r.direct_per_s), first.map(|r| r.proxied_per_s)],
        0,
        [times(f.throughput_ratio), times(f.relay_throughput_ratio)],
        format!("≥ {}×", target::THROUGHPUT_RATIO),
        verdict(judged, f.throughput_ratio, |v| v >= target::THROUGHPUT_RATIO),
    ));
    let _ = writeln!(
        out,
        "  (direct and through: the first round; added and ×: medians of paired rounds; relay adds: the same \
         (or the throughput ratio) through `chaos proxy --bare-relay`, bytes copied and nothing else, the floor \
         of any hop here)\n  \
         CPU per request: interposer {} µs, relay {} µs; generator start lag p50 {} ms, p99 {} ms",
        opt(f.cpu_per_request_us, 1),
        opt(f.relay_cpu_per_request_us, 1),
        opt(f.start_lag_p50_ms, 3),
        opt(f.start_lag_p99_ms, 3)
    );
}

fn generator(out: &mut String, f: &GeneratorFigures) {
    let ceiling = match (f.max_sustained_per_s, f.ceiling_not_reached) {
        (Some(rate), false) => format!("{rate}/s"),
        (Some(rate), true) => format!("at least {rate}/s (the ladder's top; the ceiling is higher)"),
        (None, _) => "none of the ladder's rates".to_owned(),
    };
    let _ = writeln!(
        out,
        "\ngenerator (open model, corrected latency) against `chaos mock`, {} connections, {:.0} s per rate: max \
         sustained {ceiling}",
        f.ladder.connections, f.ladder.seconds
    );
    for step in &f.steps {
        let _ = writeln!(
            out,
            "  {:>7}/s  {:<13} achieved {:>8.0}/s  p99 {:>8} ms  start lag p99 {:>7} ms  {}",
            step.rate,
            if step.sustained { "sustained" } else { "not sustained" },
            step.achieved_per_s,
            opt(step.p99_ms, 2),
            opt(step.lag_p99_ms, 3),
            step.why_not.join("; ")
        );
    }
    let _ = writeln!(out, "  (against oha in the same run: `bash benches/generator.sh`)");
}

/// One figure of a server's streams.
type Figure = fn(&PacedStreams) -> Option<f64>;

fn streams(out: &mut String, f: &StreamFigures, judged: bool) {
    let l = &f.load;
    let _ = writeln!(
        out,
        "\nmock streams: {} concurrent × {} tokens at {} tokens/s over HTTP/1.1, a connection a stream (as SDKs open \
         them); the same on the bare floor (the mock's events written straight to the socket, no HTTP stack)",
        l.streams, l.tokens, l.tokens_per_second,
    );
    let expected = u64::from(l.streams) * u64::from(l.tokens);
    let _ = writeln!(out, "  {:<44} {:>16} {:>16} {:>12}", "", "mock", "bare floor", "mock ÷ bare");
    let pair = |figure: Figure, digits: usize| {
        let (mock, bare) = (figure(&f.mock), figure(&f.bare));
        let ratio = mock.zip(bare).filter(|(_, b)| *b > 0.0).map(|(m, b)| format!("{:.2}×", m / b));
        format!("{:>16} {:>16} {:>12}", opt(mock, digits), opt(bare, digits), ratio.unwrap_or_default())
    };
    let rows: [(&str, Figure, usize); 7] = [
        ("inter-token error p50, as written (ms)", |s| s.inter_token_error_ms.map(|e| e.p50), 2),
        ("inter-token error p99, as written (ms)", |s| s.inter_token_error_ms.map(|e| e.p99), 2),
        ("inter-token error p99, client-seen (ms)", |s| s.client_seen_inter_token_error_ms.map(|e| e.p99), 2),
        ("lateness (written − due) p99 (ms)", |s| s.lateness_ms.map(|e| e.p99), 2),
        ("server CPU (s)", |s| s.cpu_s, 2),
        ("measuring client CPU (s)", |s| s.client_cpu_s, 2),
        ("peak RSS (MB)", |s| s.peak_rss_mb, 1),
    ];
    for (name, figure, digits) in rows {
        let _ = writeln!(out, "  {name:<44} {}", pair(figure, digits));
    }
    let p99 = f.mock.inter_token_error_ms.map(|e| e.p99);
    let _ = writeln!(
        out,
        "  events received: mock {} of {expected}, bare {} of {expected}",
        f.mock.events_received, f.bare.events_received
    );
    let _ = writeln!(
        out,
        "  the mock's inter-token error p99 (as written) < {} ms: {}; its RSS < {} MB: {}\n  (over HTTP/2, the \
         streams sharing a few connections: `python3 benches/mock_streams_light_client.py 2000 0.1 --h2 20`)",
        target::INTER_TOKEN_P99_MS,
        or_not_judged(verdict(judged, p99, |v| v < target::INTER_TOKEN_P99_MS)),
        target::MOCK_RSS_MB,
        or_not_judged(verdict(judged, f.mock.peak_rss_mb, |v| v < target::MOCK_RSS_MB)),
    );
}

/// A verdict, or that there is none at this profile.
fn or_not_judged(verdict: &'static str) -> &'static str {
    if verdict.is_empty() {
        "not judged"
    } else {
        verdict
    }
}
