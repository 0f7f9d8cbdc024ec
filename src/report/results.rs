//! `results.json`: the versioned record of a run, with enough of the scenario, seed and harness
//! version to reproduce it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{
    analysis::{Analysis, Figures},
    assert::{Check, Verdict},
    scenario::Plan,
};

/// Bumped whenever a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Which scenario ran, and how to run it again.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub seed: u64,
    pub slo_availability: f64,
    pub slo_period_s: f64,
}

/// The whole results document.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub schema_version: u32,
    pub harness_version: &'static str,
    pub scenario: ScenarioInfo,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time the run actually took, seconds.
    pub elapsed_s: f64,
    pub interrupted: bool,
    pub verdict: Verdict,
    pub phases: Vec<Figures>,
    pub overall: Figures,
    pub expectations: Vec<Check>,
}

impl Results {
    pub fn new(
        plan: &Plan,
        started_at: String,
        elapsed_s: f64,
        interrupted: bool,
        analysis: Analysis,
        checks: Vec<Check>,
        verdict: Verdict,
    ) -> Self {
        Results {
            schema_version: SCHEMA_VERSION,
            harness_version: env!("CARGO_PKG_VERSION"),
            scenario: ScenarioInfo {
                name: plan.name.clone(),
                description: plan.description.clone(),
                file: plan.file.display().to_string(),
                seed: plan.seed,
                slo_availability: plan.slo.availability,
                slo_period_s: plan.slo.period.as_secs_f64(),
            },
            started_at,
            elapsed_s,
            interrupted,
            verdict,
            phases: analysis.phases,
            overall: analysis.overall,
            expectations: checks,
        }
    }

    /// Writes `results.json` into `folder` and returns its path.
    pub fn write(&self, folder: &Path) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(folder)?;
        let path = folder.join("results.json");
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        Ok(path)
    }
}

/// A new folder `<root>/<scenario>-<timestamp>` (suffixed if it already exists).
pub fn run_folder(root: &Path, scenario: &str, stamp: &str) -> PathBuf {
    let safe: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let base = root.join(format!("{safe}-{stamp}"));
    let mut folder = base.clone();
    let mut n = 2;
    while folder.exists() {
        folder = PathBuf::from(format!("{}-{n}", base.display()));
        n += 1;
    }
    folder
}
