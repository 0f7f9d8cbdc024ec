//! The verdict table printed at the end of a run: figures per phase, then each expectation
//! with what was observed.

use std::fmt::Write;

use crate::{
    analysis::Figures,
    assert::{Check, CheckStatus},
    scenario::expect::Metric,
};

use super::Results;

/// Renders the phase table, the expectation table and the verdict line.
pub fn render_table(results: &Results) -> String {
    let mut out = String::new();
    let header = ["phase", "requests", "ok", "failed", "attempts", "amplif.", "avail.", "p50", "p99", "max"];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    rows.extend(results.phases.iter().chain(std::iter::once(&results.overall)).map(phase_row));
    write_rows(&mut out, &rows);
    if !results.expectations.is_empty() {
        out.push('\n');
        let mut rows = vec![vec!["expectation".to_owned(), "observed".to_owned(), "result".to_owned()]];
        rows.extend(results.expectations.iter().map(check_row));
        write_rows(&mut out, &rows);
    }
    let _ = writeln!(out, "\nverdict: {}", format!("{:?}", results.verdict).to_uppercase());
    out
}

fn phase_row(figures: &Figures) -> Vec<String> {
    let latency = |pick: fn(&crate::analysis::Percentiles) -> f64| {
        figures.latency_ms.as_ref().map_or("-".to_owned(), |p| show_seconds(pick(p) / 1000.0))
    };
    vec![
        figures.name.clone(),
        figures.logical_requests.to_string(),
        figures.successes.to_string(),
        figures.failures.to_string(),
        figures.attempts.to_string(),
        figures.retry_amplification.map_or("-".to_owned(), |a| format!("{a:.2}")),
        figures.availability.map_or("-".to_owned(), show_percent),
        latency(|p| p.p50),
        latency(|p| p.p99),
        latency(|p| p.max),
    ]
}

fn check_row(check: &Check) -> Vec<String> {
    let observed = check.observed.map_or("-".to_owned(), |value| match check.expectation.metric {
        Metric::Availability | Metric::ErrorRate | Metric::BudgetSpent => show_percent(value),
        Metric::Latency { .. } => show_seconds(value),
        Metric::RetryAmplification | Metric::BurnRate => format!("{value:.2}"),
    });
    let result = match check.status {
        CheckStatus::Pass => "pass".to_owned(),
        CheckStatus::Fail => "FAIL".to_owned(),
        CheckStatus::Inconclusive => format!("inconclusive ({} requests)", check.events),
    };
    vec![check.expectation.text.clone(), observed, result]
}

fn show_percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

fn show_seconds(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2}s")
    } else {
        format!("{:.1}ms", seconds * 1000.0)
    }
}

fn write_rows(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> =
            row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}
