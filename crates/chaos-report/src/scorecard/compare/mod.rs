//! `chaos scorecard compare`: two or more scorecards side by side, dimension by dimension, and
//! what changed from one to the next. A grade orders first (A best, F, then inconclusive below
//! every letter, as `--fail-below` reads it); within one grade the figure does, in the direction
//! the rubric says is good, to the two decimals a card shows. A regression is a grade that got
//! worse from the first card to the last: a figure that moved within its grade is shown, never
//! a regression, so the run-to-run noise of a figure cannot fail CI.
//!
//! - [`read`] — a card's text checked (its schema version) and the cards checked against each
//!   other (suite, rubric).
//! - [`render`] — the comparison as a terminal table and as Markdown.
//!
//! The comparison itself is `scorecard-compare.json`, schema version [`COMPARISON_VERSION`]
//! (`chaos schema scorecard-compare`).

pub mod read;
pub mod render;

use serde::{Deserialize, Serialize};

use super::{
    grade::{Better, Grade},
    rubric::DIMENSIONS,
    DimensionScore, Scorecard,
};

/// The version of `chaos scorecard compare --format json`'s shape.
pub const COMPARISON_VERSION: u32 = 1;

/// How a dimension (or the overall grade) moved from one card to a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A better grade: a better letter, or a letter where the earlier card was inconclusive.
    Better,
    /// The same grade and a better figure.
    BetterFigure,
    /// The same grade and the same figure (or no figure to tell).
    Same,
    /// The same grade and a worse figure.
    WorseFigure,
    /// A worse grade: a regression.
    Worse,
    /// Graded in the later card only (a dimension the earlier card did not grade).
    New,
    /// Graded in the earlier card only.
    Gone,
}

impl Change {
    /// How the change is written: a mark and a word.
    pub fn label(self) -> &'static str {
        match self {
            Change::Better => "▲ better",
            Change::BetterFigure => "△ better (figure)",
            Change::Same => "= same",
            Change::WorseFigure => "▽ worse (figure)",
            Change::Worse => "▼ worse",
            Change::New => "+ new",
            Change::Gone => "− gone",
        }
    }

    /// This change with a figure's move within a grade read as no change.
    fn by_grade(self) -> Change {
        match self {
            Change::BetterFigure | Change::WorseFigure => Change::Same,
            other => other,
        }
    }
}

/// One card, as the comparison names it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CardSummary {
    /// The file it was read from, as given.
    pub file: String,
    /// What the comparison's columns call it: its target, and when cards share one, the part
    /// of its file's path that tells them apart (`litellm (litellm-1.107)`).
    pub label: String,
    pub target: String,
    pub harness_version: String,
    pub suite: String,
    pub rubric_version: u32,
    pub quick: bool,
    pub speed: f64,
    pub started_at: String,
    pub overall: Grade,
}

/// One dimension's grade and figure in one card.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cell {
    pub grade: Grade,
    pub figure: Option<f64>,
}

/// One dimension across the cards.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DimensionRow {
    pub id: String,
    pub title: String,
    pub critical: bool,
    /// The figures' unit.
    pub unit: String,
    /// Its grade and figure in each card, in the cards' order; `None` where the card has no
    /// such dimension.
    pub cells: Vec<Option<Cell>>,
    /// From each card to the next (one fewer than the cards).
    pub steps: Vec<Change>,
    /// From the first card to the last.
    pub change: Change,
}

/// `chaos scorecard compare --format json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The version of this document's shape ([`COMPARISON_VERSION`]).
    #[schemars(extend("const" = COMPARISON_VERSION))]
    pub schema_version: u32,
    /// The version of `chaos` that compared.
    pub harness_version: String,
    /// The cards, in the order given: the first is the "before", the last the "after".
    pub cards: Vec<CardSummary>,
    /// How the cards' conditions differ (a quick suite beside a full one, rubrics that differ
    /// when `--allow-mixed` let them through): the comparison is not like for like.
    pub notes: Vec<String>,
    /// The overall grade from the first card to the last.
    pub overall_change: Change,
    /// Every dimension of any card: the first card's order, then those only later cards have.
    pub dimensions: Vec<DimensionRow>,
    /// The dimensions whose grade got worse from the first card to the last.
    pub regressions: Vec<String>,
}

/// Compares `cards` (each with the file it came from), in the order given; `notes` are
/// [`read::comparable`]'s.
pub fn compare(cards: &[(String, Scorecard)], notes: Vec<String>) -> Comparison {
    let mut ids: Vec<&str> = Vec::new();
    for (_, card) in cards {
        for row in &card.dimensions {
            if !ids.contains(&row.id.as_str()) {
                ids.push(&row.id);
            }
        }
    }
    let dimensions: Vec<DimensionRow> = ids.into_iter().map(|id| row(id, cards)).collect();
    let overalls: Vec<Option<Cell>> =
        cards.iter().map(|(_, card)| Some(Cell { grade: card.overall, figure: None })).collect();
    Comparison {
        schema_version: COMPARISON_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        cards: cards.iter().map(|(file, card)| summary(file, card, cards)).collect(),
        notes,
        overall_change: change(first_and_last(&overalls), Better::Higher),
        regressions: dimensions
            .iter()
            .filter(|row| row.change == Change::Worse)
            .map(|row| row.id.clone())
            .collect(),
        dimensions,
    }
}

fn summary(file: &str, card: &Scorecard, cards: &[(String, Scorecard)]) -> CardSummary {
    let namesakes: Vec<&str> = cards
        .iter()
        .filter(|(_, other)| other.target == card.target)
        .map(|(file, _)| file.as_str())
        .collect();
    CardSummary {
        file: file.to_owned(),
        label: match namesakes.len() {
            1 => card.target.clone(),
            _ => format!("{} ({})", card.target, telling_part(file, &namesakes)),
        },
        target: card.target.clone(),
        harness_version: card.harness_version.clone(),
        suite: card.suite.clone(),
        rubric_version: card.rubric_version,
        quick: card.quick,
        speed: card.speed,
        started_at: card.started_at.clone(),
        overall: card.overall,
    }
}

/// The part of `file`'s path that tells it from `files`: its last component once the tail
/// they all share is dropped (`litellm-1.106` of `litellm-1.106/scorecard.json` beside
/// `litellm-1.107/scorecard.json`), or the whole path when nothing tells them apart.
fn telling_part(file: &str, files: &[&str]) -> String {
    let parts = |path: &str| path.rsplit('/').map(str::to_owned).collect::<Vec<_>>();
    let all: Vec<Vec<String>> = files.iter().map(|path| parts(path)).collect();
    let shared = (0..)
        .take_while(|&depth| all.iter().all(|p| p.get(depth).is_some() && p[depth] == all[0][depth]))
        .count();
    parts(file).get(shared).cloned().unwrap_or_else(|| file.to_owned())
}

fn row(id: &str, cards: &[(String, Scorecard)]) -> DimensionRow {
    let scores: Vec<Option<&DimensionScore>> =
        cards.iter().map(|(_, card)| card.dimensions.iter().find(|row| row.id == id)).collect();
    let known = scores.iter().flatten().next().expect("an id comes from some card");
    let cells: Vec<Option<Cell>> =
        scores.iter().map(|score| score.map(|s| Cell { grade: s.grade, figure: s.figure })).collect();
    // A dimension of a rubric this harness does not know orders by its grade alone.
    let better = DIMENSIONS.iter().find(|dimension| dimension.id == id).map(|d| d.better());
    let order = |pair: (Option<Cell>, Option<Cell>)| {
        better.map_or_else(|| change(pair, Better::Higher).by_grade(), |b| change(pair, b))
    };
    DimensionRow {
        id: id.to_owned(),
        title: known.title.clone(),
        critical: known.critical,
        unit: known.unit.clone(),
        steps: cells.windows(2).map(|pair| order((pair[0], pair[1]))).collect(),
        change: order(first_and_last(&cells)),
        cells,
    }
}

fn first_and_last(cells: &[Option<Cell>]) -> (Option<Cell>, Option<Cell>) {
    (cells.first().copied().flatten(), cells.last().copied().flatten())
}

/// How `later` compares with `earlier`, a figure improving in the direction `better`.
pub fn change((earlier, later): (Option<Cell>, Option<Cell>), better: Better) -> Change {
    let graded = |cell: Option<Cell>| cell.filter(|cell| cell.grade != Grade::NotGraded);
    match (graded(earlier), graded(later)) {
        (None, None) => Change::Same,
        (None, Some(_)) => Change::New,
        (Some(_), None) => Change::Gone,
        (Some(earlier), Some(later)) if later.grade < earlier.grade => Change::Better,
        (Some(earlier), Some(later)) if later.grade > earlier.grade => Change::Worse,
        (Some(earlier), Some(later)) => match (earlier.figure.map(shown), later.figure.map(shown)) {
            (Some(before), Some(after)) if before != after => {
                let improved = match better {
                    Better::Higher => after > before,
                    Better::Lower => after < before,
                };
                if improved {
                    Change::BetterFigure
                } else {
                    Change::WorseFigure
                }
            }
            _ => Change::Same,
        },
    }
}

/// A figure as a card shows it, to two decimals: a move nobody can see is no change.
fn shown(figure: f64) -> i64 {
    (figure * 100.0).round() as i64
}

/// The JSON Schema of `chaos scorecard compare --format json`, draft 2020-12.
pub fn comparison_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
    generator.into_root_schema_for::<Comparison>().to_value()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn cell(grade: Grade, figure: f64) -> Option<Cell> {
        Some(Cell { grade, figure: Some(figure) })
    }

    /// A card of `target` with one row per `(id, grade, figure)`.
    pub(crate) fn card(target: &str, rows: &[(&str, Grade, Option<f64>)]) -> Scorecard {
        let dimensions = rows
            .iter()
            .map(|&(id, grade, figure)| DimensionScore {
                id: id.to_owned(),
                title: format!("{id} title"),
                critical: id == "retry_after",
                grade,
                figure,
                unit: "%".to_owned(),
                threshold: String::new(),
                reason: String::new(),
                scenario: None,
                report: None,
                run_verdict: None,
                cost_multiplier: None,
                evidence: Vec::new(),
            })
            .collect();
        Scorecard {
            schema_version: crate::scorecard::SCORECARD_VERSION,
            harness_version: "0.0.0".to_owned(),
            suite: "standard".to_owned(),
            rubric_version: crate::scorecard::rubric::RUBRIC_VERSION,
            quick: true,
            target: target.to_owned(),
            speed: 10.0,
            started_at: "2025-01-01T00:00:00Z".to_owned(),
            elapsed_s: 20.0,
            overall: crate::scorecard::grade::overall(
                rows.iter().map(|&(id, grade, _)| (grade, id == "retry_after")),
            ),
            dimensions,
        }
    }

    #[test]
    fn a_better_letter_is_better_whatever_the_figures_say() {
        let pair = (cell(Grade::C, 85.0), cell(Grade::A, 10.0));
        assert_eq!(change(pair, Better::Higher), Change::Better);
        assert_eq!(change((pair.1, pair.0), Better::Higher), Change::Worse);
    }

    #[test]
    fn within_one_grade_the_figure_orders_in_the_dimensions_good_direction() {
        let (low, high) = (cell(Grade::B, 96.0), cell(Grade::B, 98.0));
        assert_eq!(change((low, high), Better::Higher), Change::BetterFigure);
        assert_eq!(change((low, high), Better::Lower), Change::WorseFigure);
        assert_eq!(change((high, low), Better::Lower), Change::BetterFigure);
        assert_eq!(change((high, cell(Grade::B, 98.004)), Better::Higher), Change::Same, "not visible");
        let no_figure = Some(Cell { grade: Grade::B, figure: None });
        assert_eq!(change((no_figure, high), Better::Higher), Change::Same);
    }

    #[test]
    fn inconclusive_ranks_below_every_letter_and_beside_itself() {
        let inconclusive = Some(Cell { grade: Grade::Inconclusive, figure: None });
        assert_eq!(change((cell(Grade::F, 1.0), inconclusive), Better::Higher), Change::Worse);
        assert_eq!(change((inconclusive, cell(Grade::F, 1.0)), Better::Higher), Change::Better);
        assert_eq!(change((inconclusive, inconclusive), Better::Higher), Change::Same);
    }

    #[test]
    fn a_dimension_graded_in_one_card_only_is_new_or_gone_never_a_regression() {
        let not_graded = Some(Cell { grade: Grade::NotGraded, figure: None });
        assert_eq!(change((None, cell(Grade::F, 1.0)), Better::Higher), Change::New);
        assert_eq!(change((not_graded, cell(Grade::F, 1.0)), Better::Higher), Change::New);
        assert_eq!(change((cell(Grade::A, 1.0), None), Better::Higher), Change::Gone);
        assert_eq!(change((not_graded, None), Better::Higher), Change::Same);

        let before = card("gw", &[("retry_after", Grade::A, Some(100.0))]);
        let after = card("gw", &[("retry_after", Grade::A, Some(100.0)), ("zone_loss", Grade::F, Some(3.0))]);
        let compared = compare(&[("a.json".into(), before), ("b.json".into(), after)], Vec::new());
        let ids: Vec<&str> = compared.dimensions.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(ids, ["retry_after", "zone_loss"]);
        assert_eq!(compared.dimensions[1].cells[0], None);
        assert_eq!(compared.dimensions[1].change, Change::New);
        assert!(compared.regressions.is_empty());
    }

    #[test]
    fn the_rubric_gives_each_figure_its_direction() {
        // stream_cut: requests paid twice, lower is better; retry_after: compliance, higher.
        let before =
            card("sdk", &[("retry_after", Grade::A, Some(99.5)), ("stream_cut", Grade::A, Some(0.5))]);
        let after =
            card("naive", &[("retry_after", Grade::A, Some(99.9)), ("stream_cut", Grade::A, Some(0.9))]);
        let compared = compare(&[("a.json".into(), before), ("b.json".into(), after)], Vec::new());
        let changes: Vec<Change> = compared.dimensions.iter().map(|row| row.change).collect();
        assert_eq!(changes, [Change::BetterFigure, Change::WorseFigure]);
        assert!(compared.regressions.is_empty(), "a figure within its grade is no regression");
    }

    #[test]
    fn a_dimension_this_rubric_does_not_know_orders_by_its_grade_alone() {
        let before = card("gw", &[("from_a_later_rubric", Grade::B, Some(1.0))]);
        let after = card("gw", &[("from_a_later_rubric", Grade::B, Some(2.0))]);
        let compared = compare(&[("a".into(), before.clone()), ("b".into(), after)], Vec::new());
        assert_eq!(compared.dimensions[0].change, Change::Same, "no direction to read the figure by");
        let worse = card("gw", &[("from_a_later_rubric", Grade::C, Some(1.0))]);
        let compared = compare(&[("a".into(), before), ("b".into(), worse)], Vec::new());
        assert_eq!(compared.dimensions[0].change, Change::Worse);
    }

    #[test]
    fn a_regression_is_a_worse_grade_from_the_first_card_to_the_last() {
        let a = card("v1", &[("retry_after", Grade::A, Some(100.0)), ("quota", Grade::F, Some(3.0))]);
        let b = card("v2", &[("retry_after", Grade::F, Some(0.0)), ("quota", Grade::F, Some(3.0))]);
        let c = card("v3", &[("retry_after", Grade::B, Some(96.0)), ("quota", Grade::A, Some(1.0))]);
        let compared = compare(&[("a".into(), a), ("b".into(), b), ("c".into(), c)], Vec::new());
        let retry_after = &compared.dimensions[0];
        assert_eq!(retry_after.steps, [Change::Worse, Change::Better]);
        assert_eq!(retry_after.change, Change::Worse, "A then B: worse overall");
        assert_eq!(compared.dimensions[1].change, Change::Better);
        assert_eq!(compared.regressions, ["retry_after"]);
        assert_eq!(compared.overall_change, Change::Better, "D (capped by quota's F) → B");
    }

    #[test]
    fn cards_of_one_target_are_told_apart_by_their_file() {
        let one = card("litellm", &[]);
        let compared = compare(&[("1.106.json".into(), one.clone()), ("1.107.json".into(), one)], Vec::new());
        let labels: Vec<&str> = compared.cards.iter().map(|card| card.label.as_str()).collect();
        assert_eq!(labels, ["litellm (1.106.json)", "litellm (1.107.json)"]);

        let files = ["runs/litellm-1.106/scorecard.json", "/tmp/litellm-1.107/scorecard.json", "x.json"];
        assert_eq!(telling_part(files[0], &files[..2]), "litellm-1.106");
        assert_eq!(telling_part(files[1], &files[..2]), "litellm-1.107");
        assert_eq!(telling_part("a/x.json", &["a/x.json", "a/x.json"]), "a/x.json", "the same file twice");
    }
}
