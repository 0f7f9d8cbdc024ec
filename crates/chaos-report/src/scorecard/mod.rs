//! The scorecard: a gateway's (or a client's) grades on the standard suite, one dimension a
//! row, as `scorecard.json` holds them (schema version [`SCORECARD_VERSION`], `chaos schema
//! scorecard`), and its renderings.
//!
//! - [`grade`] — letters, thresholds, the overall rule.
//! - [`rubric`] — the suite's dimensions and their thresholds (`docs/scorecard.md`), each graded
//!   from its scenario's `Results`.
//! - [`evidence`] — the figures a grade reads out of `Results`, and a run's series for its chart.
//! - [`markdown`], [`html`] — `scorecard.md` and `scorecard.html`, rendered from the card alone.
//! - [`compare`] — several cards side by side and what got better or worse (`chaos scorecard
//!   compare`).

pub mod compare;
#[cfg(test)]
mod drift;
pub mod evidence;
pub mod grade;
pub mod html;
pub mod markdown;
pub mod rubric;

use serde::{Deserialize, Serialize};

pub use grade::Grade;

/// The version of `scorecard.json`'s shape this harness writes.
pub const SCORECARD_VERSION: u32 = 1;

/// A whole scorecard.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scorecard {
    /// The version of this document's shape ([`SCORECARD_VERSION`]).
    #[schemars(extend("const" = SCORECARD_VERSION))]
    pub schema_version: u32,
    /// The version of `chaos` that wrote it.
    pub harness_version: String,
    /// The suite that ran (`standard`).
    pub suite: String,
    /// The rubric's version (`docs/scorecard.md`): grades of one rubric version compare.
    pub rubric_version: u32,
    /// Whether the suite ran its short variant (`--quick`).
    pub quick: bool,
    /// What was graded: `builtin:<profile>`, or the target file's `name`.
    pub target: String,
    /// The time scale the suite ran at (`--speed`; 1 for a gateway). Figures are in the
    /// scenarios' time: wall-clock durations × speed.
    pub speed: f64,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time the whole suite took, seconds.
    pub elapsed_s: f64,
    /// The overall grade: never better than the worst critical dimension.
    pub overall: Grade,
    /// Each dimension of the rubric, in its order, graded or not.
    pub dimensions: Vec<DimensionScore>,
}

/// One dimension's grade and what it rests on.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DimensionScore {
    /// Stable id (`retry_after`, `quota`, …).
    pub id: String,
    /// What it asks, in a few words.
    pub title: String,
    /// Whether the overall grade is capped by it.
    pub critical: bool,
    pub grade: Grade,
    /// The figure graded, in `unit`; `None` when nothing was measured.
    pub figure: Option<f64>,
    /// The figure's unit: `%`, `s`, `×`, `attempts/request`.
    pub unit: String,
    /// The threshold the figure met (`≥ 99 % → A`), or the last it missed (`F: below ≥ 50 %`).
    pub threshold: String,
    /// Why this grade, in a sentence: the figure in words, or why it could not be graded.
    pub reason: String,
    /// The scenario whose run graded it (its `name:`), if one ran.
    #[serde(default)]
    pub scenario: Option<String>,
    /// Its run's `report.html`, relative to the scorecard's folder.
    #[serde(default)]
    pub report: Option<String>,
    /// Its run's verdict (`pass`, `fail`, `inconclusive`, …).
    #[serde(default)]
    pub run_verdict: Option<String>,
    /// The cost per request in the scenario's fault phase ÷ its baseline's, at uniform prices.
    #[serde(default)]
    pub cost_multiplier: Option<f64>,
    /// The run, second by second, for the row's chart.
    #[serde(default)]
    pub evidence: Vec<evidence::EvidenceSecond>,
}

/// The JSON Schema of `scorecard.json`, draft 2020-12.
pub fn scorecard_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
    generator.into_root_schema_for::<Scorecard>().to_value()
}

/// The committed copy's path in the repository.
pub fn scorecard_schema_file() -> String {
    format!("schemas/scorecard.v{SCORECARD_VERSION}.json")
}
