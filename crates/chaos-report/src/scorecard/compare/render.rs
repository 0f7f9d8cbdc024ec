//! A comparison written for people: an aligned table for the terminal, or Markdown to paste into
//! a pull request. One row a dimension (its id in the terminal, its title in Markdown, ★ when
//! critical), one column a card with its grade and figure, then the change from the first card
//! to the last; with more than two cards each later cell carries its step's mark too. The
//! overall grade closes the table, the notes open it, the regressions follow it.

use std::fmt::Write;

use super::{Cell, Change, Comparison, DimensionRow};
use crate::scorecard::rubric::number;

/// The aligned table, for a terminal.
pub fn terminal(comparison: &Comparison) -> String {
    let mut out = format!("scorecard compare: {}\n", heading(comparison));
    for note in &comparison.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let rows = table(comparison, |row| format!("{}{}", row.id, star(row)));
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|column| rows.iter().map(|row| row[column].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, &width)| format!("{text}{}", " ".repeat(width - text.chars().count())))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    }
    let _ = writeln!(out, "{}", regressions(comparison, |id| id.to_owned()));
    out
}

/// The Markdown, for a pull request.
pub fn markdown(comparison: &Comparison) -> String {
    let mut out = format!("## Scorecard compare: {}\n\n", heading(comparison));
    for note in &comparison.notes {
        let _ = writeln!(out, "> **Note:** {note}\n");
    }
    let rows = table(comparison, |row| format!("{}{}", row.title, star(row)));
    let escape = |text: &String| text.replace('|', "\\|");
    for (index, row) in rows.iter().enumerate() {
        let _ = writeln!(out, "| {} |", row.iter().map(escape).collect::<Vec<_>>().join(" | "));
        if index == 0 {
            let _ = writeln!(out, "|{}", "---|".repeat(row.len()));
        }
    }
    let _ = writeln!(out, "\n{}", regressions(comparison, |id| format!("`{id}`")));
    out
}

/// ` ★` after a critical dimension's name.
fn star(row: &DimensionRow) -> &'static str {
    if row.critical {
        " ★"
    } else {
        ""
    }
}

/// `openai-python → naive`.
fn heading(comparison: &Comparison) -> String {
    comparison.cards.iter().map(|card| card.label.as_str()).collect::<Vec<_>>().join(" → ")
}

/// The header, a row a dimension, and the overall row; `name` writes a dimension's first cell.
fn table(comparison: &Comparison, name: impl Fn(&DimensionRow) -> String) -> Vec<Vec<String>> {
    let marks = comparison.cards.len() > 2;
    let mut header = vec!["dimension".to_owned()];
    header.extend(comparison.cards.iter().map(|card| card.label.clone()));
    header.push("change".to_owned());
    let mut rows = vec![header];
    for row in &comparison.dimensions {
        let mut cells = vec![name(row)];
        for (index, cell) in row.cells.iter().enumerate() {
            let step = index.checked_sub(1).map(|step| row.steps[step]).filter(|_| marks);
            cells.push(written(*cell, &row.unit, step));
        }
        cells.push(row.change.label().to_owned());
        rows.push(cells);
    }
    let mut overall = vec!["overall".to_owned()];
    overall.extend(comparison.cards.iter().map(|card| card.overall.label().to_owned()));
    overall.push(comparison.overall_change.label().to_owned());
    rows.push(overall);
    rows
}

/// `A 100 %`, with the step's mark (`B 96 % ▲`), or `—` where the card has no such dimension.
fn written(cell: Option<Cell>, unit: &str, step: Option<Change>) -> String {
    let mut text = cell.map_or("—", |cell| cell.grade.label()).to_owned();
    if let Some(figure) = cell.and_then(|cell| cell.figure) {
        let _ = write!(text, " {} {unit}", number(figure));
    }
    if let Some(step) = step {
        let mark = step.label().split(' ').next().unwrap_or_default();
        let _ = write!(text, " {mark}");
    }
    text.trim_end().to_owned()
}

/// `regressions: retry_after A → F, …`, or that there are none.
fn regressions(comparison: &Comparison, name: impl Fn(&str) -> String) -> String {
    let worse: Vec<String> = comparison
        .dimensions
        .iter()
        .filter(|row| comparison.regressions.contains(&row.id))
        .map(|row| {
            let grade =
                |cell: Option<&Option<Cell>>| cell.copied().flatten().map_or("—", |c| c.grade.label());
            format!("{} {} → {}", name(&row.id), grade(row.cells.first()), grade(row.cells.last()))
        })
        .collect();
    match worse.is_empty() {
        true => "regressions (a grade worse from the first card to the last): none".to_owned(),
        false => format!("regressions (a grade worse from the first card to the last): {}", worse.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::{
        compare::{compare, tests::card},
        Grade,
    };

    fn sdk_and_naive() -> Comparison {
        let sdk =
            card("openai-python", &[("retry_after", Grade::A, Some(100.0)), ("quota", Grade::F, Some(2.11))]);
        let naive = card("naive", &[("retry_after", Grade::F, Some(0.0)), ("quota", Grade::F, Some(2.11))]);
        compare(&[("sdk.json".into(), sdk), ("naive.json".into(), naive)], vec!["a note".to_owned()])
    }

    #[test]
    fn the_terminal_table_aligns_each_card_and_names_the_regressions() {
        let text = terminal(&sdk_and_naive());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "scorecard compare: openai-python → naive");
        assert_eq!(lines[1], "note: a note");
        assert_eq!(lines[2], "dimension      openai-python  naive     change");
        assert_eq!(lines[3], "retry_after ★  A 100 %        F 0 %     ▼ worse");
        assert_eq!(lines[4], "quota          F 2.11 %       F 2.11 %  = same");
        assert_eq!(lines[5], "overall        D              F         ▼ worse", "D: capped by quota's F");
        assert!(lines[6].ends_with(": retry_after A → F"), "{}", lines[6]);
    }

    #[test]
    fn the_markdown_is_a_table_with_titles_and_critical_marks() {
        let text = markdown(&sdk_and_naive());
        assert!(
            text.starts_with("## Scorecard compare: openai-python → naive\n\n> **Note:** a note\n"),
            "{text}"
        );
        assert!(
            text.contains("| dimension | openai-python | naive | change |\n|---|---|---|---|\n"),
            "{text}"
        );
        assert!(text.contains("| retry_after title ★ | A 100 % | F 0 % | ▼ worse |"), "{text}");
        assert!(text.contains("| overall | D | F | ▼ worse |"), "{text}");
        assert!(text.contains("`retry_after` A → F"), "{text}");
    }

    #[test]
    fn beyond_two_cards_each_later_cell_carries_its_step() {
        let a = card("v1", &[("retry_after", Grade::A, Some(100.0))]);
        let b = card("v2", &[("retry_after", Grade::B, Some(96.0))]);
        let c = card("v3", &[]);
        let text = terminal(&compare(&[("a".into(), a), ("b".into(), b), ("c".into(), c)], Vec::new()));
        let row = text.lines().find(|line| line.starts_with("retry_after")).unwrap();
        assert!(row.contains("A 100 %") && row.contains("B 96 % ▼") && row.contains("— −"), "{row}");
        assert!(row.ends_with("− gone"), "{row}");
    }
}
