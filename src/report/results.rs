//! `results.json`: the versioned record of a run, with enough of the scenario, seed and harness
//! version to reproduce it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{
    analysis::{Analysis, Figures},
    assert::{Check, Verdict},
    load::GeneratorReport,
    mock::Counters,
    scenario::{plan::Upstream, Plan},
    wire::ApiFamily,
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

/// How the run went, apart from its figures.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time the run actually took, seconds.
    pub elapsed_s: f64,
    pub interrupted: bool,
}

/// What one mock upstream received, per key and model (keys by index, never by value).
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamCounts {
    pub name: String,
    pub family: ApiFamily,
    pub zone: Option<String>,
    pub received: serde_json::Value,
}

impl UpstreamCounts {
    pub fn new(upstream: &Upstream, counters: &Counters) -> Self {
        UpstreamCounts {
            name: upstream.name.clone(),
            family: upstream.family,
            zone: upstream.zone.clone(),
            received: counters.to_json()["counts"].take(),
        }
    }
}

/// The whole results document.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub schema_version: u32,
    pub harness_version: &'static str,
    pub scenario: ScenarioInfo,
    #[serde(flatten)]
    pub run: RunMeta,
    pub verdict: Verdict,
    /// The load generator's account of itself; when it did not keep up, the run is invalid.
    pub generator: GeneratorReport,
    pub phases: Vec<Figures>,
    pub overall: Figures,
    pub expectations: Vec<Check>,
    pub upstreams: Vec<UpstreamCounts>,
}

impl Results {
    pub fn new(
        plan: &Plan,
        run: RunMeta,
        generator: GeneratorReport,
        analysis: Analysis,
        expectations: Vec<Check>,
        upstreams: Vec<UpstreamCounts>,
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
            verdict: crate::assert::verdict(&expectations, run.interrupted, generator.kept_up),
            run,
            generator,
            phases: analysis.phases,
            overall: analysis.overall,
            expectations,
            upstreams,
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
