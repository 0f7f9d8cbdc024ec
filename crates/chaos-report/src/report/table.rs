//! The verdict table printed at the end of a run: figures per phase, then each expectation
//! with what was observed.

use std::fmt::Write;

use super::cells::{self, optional};
use crate::results::{Check, Figures, Percentiles, Results};

/// Renders the phase table, the expectation table and the verdict line.
pub fn render_table(results: &Results) -> String {
    let mut out = String::new();
    let header = [
        "phase", "requests", "ok", "failed", "attempts", "amplif.", "avail.", "p50", "p99", "max", "p99 ttft",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    rows.extend(results.phases.iter().chain(std::iter::once(&results.overall)).map(phase_row));
    write_rows(&mut out, &rows);
    if !results.expectations.is_empty() {
        out.push('\n');
        let mut rows = vec![vec!["expectation".to_owned(), "observed".to_owned(), "result".to_owned()]];
        rows.extend(results.expectations.iter().map(check_row));
        write_rows(&mut out, &rows);
    }
    for problem in &results.generator.problems {
        let _ = writeln!(out, "\nthe run is invalid: {problem}");
    }
    let _ = writeln!(out, "\nverdict: {}", cells::verdict(results.verdict));
    out
}

fn phase_row(figures: &Figures) -> Vec<String> {
    let latency = |pick: fn(&Percentiles) -> f64| {
        optional(figures.latency_ms.as_ref().map(|p| pick(p) / 1000.0), cells::seconds)
    };
    let ttft = optional(figures.ttft_ms.as_ref().map(|p| p.p99 / 1000.0), cells::seconds);
    vec![
        figures.name.clone(),
        figures.logical_requests.to_string(),
        figures.successes.to_string(),
        figures.failures.to_string(),
        figures.attempts.to_string(),
        optional(figures.retry_amplification, cells::ratio),
        optional(figures.availability, cells::percent),
        latency(|p| p.p50),
        latency(|p| p.p99),
        latency(|p| p.max),
        ttft,
    ]
}

fn check_row(check: &Check) -> Vec<String> {
    vec![check.expectation.text.clone(), cells::observed(check), cells::result(check)]
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
