//! `scorecard.md`: the scorecard as a table a person pastes into a pull request.

use std::fmt::Write;

use super::{rubric::number, Scorecard};

/// The Markdown of `card`.
pub fn render(card: &Scorecard) -> String {
    let mut out = String::new();
    let quick = if card.quick { " (quick)" } else { "" };
    let _ = writeln!(out, "## Scorecard: {} — overall **{}**\n", card.target, card.overall.label());
    let _ = writeln!(
        out,
        "Suite `{}`{quick}, rubric v{}, chaos {}, speed {}, {} s. The overall grade is no better than the worst critical (★) dimension.\n",
        card.suite,
        card.rubric_version,
        card.harness_version,
        number(card.speed),
        number(card.elapsed_s)
    );
    out.push_str("| dimension | grade | figure | threshold | cost × | why |\n|---|---|---|---|---|---|\n");
    for row in &card.dimensions {
        let star = if row.critical { " ★" } else { "" };
        let figure = row.figure.map(|f| format!("{} {}", number(f), row.unit)).unwrap_or_default();
        let cost = row.cost_multiplier.map(number).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {}{star} | **{}** | {figure} | {} | {cost} | {} |",
            row.title,
            row.grade.label(),
            row.threshold,
            row.reason.replace('|', "\\|")
        );
    }
    out
}
