//! `summary.md`: the verdict as GitHub-flavoured markdown, fit for `$GITHUB_STEP_SUMMARY`: the
//! scenario and its verdict, a row per expectation, then the figures per phase and whether the
//! run would have paged.
//!
//! Text from the scenario goes through [`text`] or [`code`], so a `|` or a `*` in a name cannot
//! break a table or start emphasis.

use std::fmt::Write;

use super::cells::{self, optional};
use crate::results::{Check, CheckStatus, Figures, Paging, Results, Verdict};

/// Renders `summary.md` from the results.
pub fn render_summary(results: &Results) -> String {
    let mut out = String::new();
    let scenario = &results.scenario;
    let _ = writeln!(
        out,
        "## {} chaos: {} — {}\n",
        verdict_mark(results.verdict),
        code(&scenario.name),
        cells::verdict(results.verdict)
    );
    let _ = writeln!(
        out,
        "SLO {} over {}, seed {}, {}, chaos {}\n",
        cells::objective(scenario.slo_availability),
        cells::period(scenario.slo_period_s),
        scenario.seed,
        code(&scenario.file),
        text(&results.harness_version)
    );
    for note in cells::stop_notes(results) {
        let _ = writeln!(out, "**{}**\n", text(&note));
    }
    for note in cells::provenance(results) {
        let _ = writeln!(out, "{}\n", text(&note));
    }
    for problem in &results.generator.problems {
        let _ = writeln!(out, "**The run is invalid — the load generator fell behind:** {}\n", text(problem));
    }
    if let Some(floor) = &results.calibration {
        let _ = writeln!(out, "Noise floor: {}\n", text(&floor.describe()));
    }
    if let Some(preflight) = &results.preflight {
        let _ = writeln!(out, "Preflight: {}\n", text(&preflight.describe()));
    }
    if !results.expectations.is_empty() {
        out.push_str("| expectation | observed | result |\n| --- | ---: | --- |\n");
        for check in &results.expectations {
            let _ = writeln!(
                out,
                "| {} | {} | {} {} |",
                code(&check.expectation.text),
                cells::observed(check),
                check_mark(check),
                cells::result(check)
            );
        }
        out.push('\n');
    }
    out.push_str(
        "| phase | requests | availability | burn rate | budget spent | p99 latency | p99 TTFT | retry amplification | fallback | cost / request | cost × baseline |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for figures in &results.phases {
        out.push_str(&phase_row(&text(&figures.name), figures));
    }
    out.push_str(&phase_row("**overall**", &results.overall));
    if let Some(paging) = &results.overall.paging {
        out.push('\n');
        out.push_str(&paging_line(paging, results.overall.peak_burn_rate_5m));
    }
    out
}

fn phase_row(name: &str, figures: &Figures) -> String {
    let p99 = figures.latency_ms.map(|p| p.p99 / 1000.0);
    let ttft = figures.ttft_ms.map(|p| p.p99 / 1000.0);
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        figures.logical_requests,
        optional(figures.availability, cells::percent),
        optional(figures.burn_rate, cells::ratio),
        optional(figures.budget_spent, cells::budget),
        optional(p99, cells::seconds),
        optional(ttft, cells::seconds),
        optional(figures.retry_amplification, cells::ratio),
        optional(figures.fallback_rate, cells::percent),
        optional(figures.cost_per_request_usd, cells::dollars),
        optional(figures.cost_multiplier, cells::ratio),
    )
}

/// One sentence: would the run have paged, by which rule, and what filled the windows.
fn paging_line(paging: &Paging, peak_5m: Option<f64>) -> String {
    format!("**Would it have paged?** {}\n", cells::paging(paging, peak_5m, text))
}

fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Inconclusive | Verdict::Invalid | Verdict::Interrupted | Verdict::Halted => "⚠️",
    }
}

fn check_mark(check: &Check) -> &'static str {
    match check.status {
        CheckStatus::Pass => "✅",
        CheckStatus::Fail => "❌",
        CheckStatus::Inconclusive => "⚠️",
    }
}

/// Text shown as written: markdown punctuation backslash-escaped, line breaks as spaces.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation() && !matches!(c, '.' | ',' | ':' | '/' | '=' | '%' | '-') => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text in a code span (a table's `|` escaped, as GitHub's tables need even there); text that
/// holds a backtick cannot be a simple code span and is shown escaped instead.
fn code(raw: &str) -> String {
    if raw.contains('`') || raw.contains(['\n', '\r']) {
        return text(raw);
    }
    format!("`{}`", raw.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_the_expectations_and_the_phases_in_tables() {
        let summary = render_summary(&crate::test_support::results());
        let lines: Vec<&str> = summary.lines().collect();
        assert_eq!(lines[0], "## ❌ chaos: `t` — FAIL");
        assert_eq!(lines[2], "SLO 99% over 1d, seed 1, `t.yaml`, chaos 0.1.0");
        let rows = [
            "| `availability{phase=calm} >= 99.9%` | 100.00% | ✅ pass |",
            "| `burn_rate{phase=down} < 14.4` | 100.00 | ❌ FAIL |",
            "| `p99{phase=blip} < 1s` | 20.0ms | ⚠️ inconclusive (10 requests) |",
            // 100 × 2 s / 86 400 s of a day's budget = 0.23 %, as the run's 40 × 5 s; latencies
            // are 20 ms each; one attempt each, a success billed 1000 + 100 tokens of
            // gpt-4o-mini ($0.00021), a 503 nothing: the run's 30 successes over 50 requests
            // cost 0.6 × the baseline's per request.
            "| down | 20 | 0.00% | 100.00 | 0.23% | 20.0ms | - | 1.00 | - | $0.00 | 0.00 |",
            "| **overall** | 50 | 60.00% | 40.00 | 0.23% | 20.0ms | 12.0ms | 1.00 | 0.00% | $0.0001260 | 0.60 |",
        ];
        for row in rows {
            assert!(lines.contains(&row), "no `{row}` in\n{summary}");
        }
    }

    #[test]
    fn the_paging_line_names_each_rule_and_the_fill() {
        let summary = render_summary(&crate::test_support::results());
        let paging = summary.lines().last().unwrap();
        // 20 bad requests among the 280 s before the run (at 10 good a second) and its 5 s:
        // 20 / 3000 → BR 0.67 at 99 %; the hour and six hours dilute them further.
        assert!(
            paging.starts_with(
                "**Would it have paged?** no — 1h/5m peak 0.06 (pages at 14.4); 6h/30m peak 0.01 (pages at 6). \
                 Peak 5-minute burn rate 0.67."
            ),
            "{paging}"
        );
        assert!(paging.ends_with("filled at the calm phase's error rate."), "{paging}");
    }

    #[test]
    fn a_page_says_when_and_a_missing_baseline_says_so() {
        let mut paging = crate::test_support::results().overall.paging.expect("the run's paging");
        paging.baseline = None;
        paging.paged = true;
        paging.rules[0].paged = true;
        paging.rules[0].first_page_at_s = Some(112);
        let line = paging_line(&paging, Some(1000.0));
        assert!(line.starts_with("**Would it have paged?** yes — 1h/5m peak "), "{line}");
        assert!(line.contains(" (pages at 14.4, paged 112s into the run); 6h/30m peak "), "{line}");
        assert!(line.contains("Peak 5-minute burn rate 1000.00."), "{line}");
        assert!(line.ends_with("filled as error-free (the first phase injected faults).\n"), "{line}");
    }

    #[test]
    fn objectives_and_periods_read_as_written() {
        assert_eq!(cells::objective(0.999), "99.9%");
        assert_eq!(cells::objective(0.99999), "99.999%");
        assert_eq!(
            (cells::period(30.0 * 86_400.0), cells::period(7200.0), cells::period(90.0)),
            ("30d".into(), "2h".into(), "90.00s".into())
        );
    }

    #[test]
    fn scenario_text_cannot_break_a_table() {
        assert_eq!(text("a|b *c* _d_\nx.y"), "a\\|b \\*c\\* \\_d\\_ x.y");
        assert_eq!(code("p99 < 3s | x"), "`p99 < 3s \\| x`");
        assert_eq!(code("a`b"), "a\\`b");
    }
}
