//! `chaos-report`: a run settled into its results, and the results rendered.
//!
//! - [`settle`] — a finished run's figures, checks and counts made into one `Results`, the
//!   verdict settled before anything renders.
//! - [`report`] — renders results, and only results: the verdict table, `junit.xml`,
//!   `summary.md` and `report.html`, and writing a run's folder.
//! - [`merge`] — several runs' results merged into one (`chaos merge`): their tallies added and
//!   analysed again.
//! - [`scorecard`] — the standard suite's grades: rubric, `scorecard.json` and its renderings.
#![forbid(unsafe_code)]

pub mod merge;
pub mod report;
pub mod scorecard;
pub mod settle;
#[cfg(test)]
mod test_support;

// The floors below, under the names this crate's code uses for them.
#[cfg(test)]
use chaos_core::wire;
use chaos_core::{metrics, results, speed};
use chaos_measure::{analysis, assert};
use chaos_scenario as scenario;
