//! `scorecard.html`: one self-contained page, one row per dimension with its grade, figure and
//! threshold, a small inline SVG of the run's attempts (primary against the others, second by
//! second) and a link to that scenario's `report.html`. No script, no request beyond the file.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{evidence::EvidenceSecond, rubric::number, Grade, Scorecard};

const STYLE: &str =
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}\
td,th{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:middle}\
.g{font-weight:700;font-size:1.2em}.A,.B{color:#17803d}.C{color:#a16207}.D,.F{color:#b91c1c}\
.inconclusive,.not{color:#6b7280}svg{display:block}.legend span{margin-right:1em}";

/// The page of `card`.
pub fn render(card: &Scorecard) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Scorecard: " (card.target) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Scorecard: " (card.target) " — " span class=(class(card.overall)) { (card.overall.label()) } }
                p {
                    "Suite " code { (card.suite) } @if card.quick { " (quick)" } ", rubric v" (card.rubric_version)
                    ", chaos " (card.harness_version) ", speed " (number(card.speed)) ", " (number(card.elapsed_s)) " s, started "
                    (card.started_at) ". The overall grade is no better than the worst critical (★) dimension."
                }
                p class="legend" { span style="color:#2563eb" { "■ attempts at the primary" } span style="color:#f59e0b" { "■ at the fallbacks" } }
                table {
                    tr { th { "dimension" } th { "grade" } th { "figure" } th { "threshold" } th { "evidence" } th { "why" } }
                    @for row in &card.dimensions {
                        tr data-dimension=(row.id) {
                            td { (row.title) @if row.critical { " ★" } }
                            td class={ "g " (class(row.grade)) } { (row.grade.label()) }
                            td { @if let Some(figure) = row.figure { (number(figure)) " " (row.unit) } }
                            td { (row.threshold) }
                            td { (chart(&row.evidence)) }
                            td {
                                (row.reason)
                                @if let Some(report) = &row.report { " " a href=(report) { "report" } }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

fn class(grade: Grade) -> &'static str {
    match grade {
        Grade::NotGraded => "not",
        other => other.label(),
    }
}

/// Attempts per second as two polylines, 160 × 36 px.
fn chart(series: &[EvidenceSecond]) -> Markup {
    if series.is_empty() {
        return html! {};
    }
    let (width, height) = (160.0, 36.0);
    let top =
        series.iter().map(|s| s.primary_attempts.max(s.other_attempts)).max().unwrap_or(1).max(1) as f64;
    let span = series.len().saturating_sub(1).max(1) as f64;
    let line = |value: fn(&EvidenceSecond) -> u64| -> String {
        series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{:.1},{:.1}",
                    i as f64 / span * width,
                    height - value(s) as f64 / top * (height - 2.0) - 1.0
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg width="160" height="36" viewBox="0 0 160 36" role="img" aria-label="attempts per second" {
            polyline fill="none" stroke="#2563eb" stroke-width="1.5" points=(line(|s| s.primary_attempts)) {}
            polyline fill="none" stroke="#f59e0b" stroke-width="1.5" points=(line(|s| s.other_attempts)) {}
        }
    }
}
