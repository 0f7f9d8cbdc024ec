//! `results.json`: the versioned record of a run, with enough of the scenario, seed and harness
//! version to reproduce it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioInfo {
    /// The scenario's `name:`.
    pub name: String,
    /// The scenario's `description:`, if it has one.
    pub description: Option<String>,
    /// The scenario file's path, as given.
    pub file: String,
    /// Seeds every fault decision: the same seed makes the same decisions.
    pub seed: u64,
    /// The system under test, in a line (no keys; a command target by its program only).
    #[serde(default)]
    pub target: String,
    /// The upstream the target is meant to use first; successes served by any other count as
    /// fallback.
    #[serde(default)]
    pub primary_upstream: Option<String>,
    /// The SLO's availability objective, a fraction (0–1).
    pub slo_availability: f64,
    /// The SLO's period, seconds.
    pub slo_period_s: f64,
    /// The time scale it ran at (`--speed`): every duration the scenario states was divided by
    /// it, arrival rates were not; 1 is real time. The figures are wall time.
    #[serde(default = "crate::speed::real_time_factor")]
    pub speed: f64,
    /// The scenario file's text, as the run read it (`chaos merge` reads the plan back from it).
    #[serde(default)]
    pub source: Option<String>,
}

/// How the run went, apart from its figures.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunMeta {
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time the run actually took, seconds.
    pub elapsed_s: f64,
    /// Whether Ctrl-C stopped the run before its phases ended.
    pub interrupted: bool,
    /// The expectation whose failure stopped the run early (`abort_on_fail`), as written.
    #[serde(default)]
    pub aborted_by: Option<String>,
    /// The halt condition that stopped the run, when one did.
    #[serde(default)]
    pub halted_by: Option<crate::monitor::Halt>,
    /// Whether the run was a dry run: the whole plan, with no fault firing (`--dry-run`).
    #[serde(default)]
    pub dry_run: bool,
    /// RFC 3339, UTC: when the first phase started — after the target was up, and after waiting
    /// for a first phase's wall-clock `at`.
    #[serde(default)]
    pub phases_started_at: String,
}

impl RunMeta {
    /// How the run ended, for its verdict.
    pub fn stop(&self) -> crate::assert::Stop {
        match (self.interrupted, &self.halted_by) {
            (true, _) => crate::assert::Stop::Interrupted,
            (false, Some(_)) => crate::assert::Stop::Halted,
            (false, None) => crate::assert::Stop::Ended,
        }
    }
}

/// What one mock upstream received, per key and model (keys by index, never by value).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UpstreamCounts {
    /// The upstream's name in the scenario.
    pub name: String,
    pub family: ApiFamily,
    /// The upstream's `zone:`, if it has one.
    pub zone: Option<String>,
    /// One row per key and model, as the mock counted.
    #[schemars(with = "Vec<crate::mock::CountsRow>")]
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

/// The whole results document. The same struct is written and read back (`chaos report`),
/// so every rendering is made from exactly what the file holds, whether just after a run or
/// later; no mirror type can drift from it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Results {
    /// The version of this document's shape ([`SCHEMA_VERSION`]).
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// The version of `chaos` that wrote it.
    pub harness_version: String,
    pub scenario: ScenarioInfo,
    #[serde(flatten)]
    pub run: RunMeta,
    pub verdict: Verdict,
    /// The load generator's account of itself; when it did not keep up, the run is invalid.
    pub generator: GeneratorReport,
    /// Figures per phase, in timeline order.
    pub phases: Vec<Figures>,
    /// Figures for the whole run.
    pub overall: Figures,
    /// Second by second: requests that finished in each, successes, latency and TTFT
    /// percentiles.
    pub timeline: Vec<crate::metrics::timeline::Second>,
    /// Second by second: the attempts that reached an interposer, by upstream, status and
    /// cause, and what they cost.
    #[serde(default)]
    pub attempt_timeline: Vec<crate::analysis::upstream_timeline::AttemptsSecond>,
    /// Second by second: the rolling burn rates the paging rules watch.
    #[serde(default)]
    pub burn_timeline: Vec<crate::analysis::slo::BurnSecond>,
    /// Each expectation of the scenario, in order, with what was observed.
    pub expectations: Vec<Check>,
    /// What each upstream received, in the scenario's order.
    pub upstreams: Vec<UpstreamCounts>,
    /// The price each billed model was charged at, and which table it came from.
    #[serde(default)]
    pub prices: Vec<crate::analysis::cost::AppliedPrice>,
    /// How figures that depend on a method were measured, by figure (`retry_after_compliance`,
    /// `duplicate_calls`, `join`).
    #[serde(default)]
    pub methods: std::collections::BTreeMap<String, String>,
    /// Where the run ran: OS and kernel, CPUs, build, the command line (secrets redacted); for
    /// a merge, where the merge ran (each run's own is in `merged_from`).
    #[serde(default)]
    pub environment: super::Environment,
    /// What `journal.ndjson` kept: lines written, and attempt lines dropped because its writer
    /// fell behind.
    #[serde(default)]
    pub journal: Option<crate::metrics::journal::JournalStats>,
    /// The journal whose fault decisions this run imposed (`--replay`), and how many it could.
    #[serde(default)]
    pub replay: Option<crate::metrics::replay::ReplayStats>,
    /// The counts every figure above was computed from: each phase's counters and HDR
    /// histograms, and the SLO events of each second. `chaos merge` adds these up.
    #[serde(default)]
    pub tallies: Option<crate::metrics::Tallies>,
    /// The runs this document merges (`chaos merge`), in the order given; empty for a run.
    #[serde(default)]
    pub merged_from: Vec<super::merge::MergedRun>,
    /// The harness's own noise floor on the machine that ran it (`chaos run --calibrate`):
    /// what the interposer adds, how late the generator starts, how far a mock's token timing
    /// strays. `None` when not measured.
    #[serde(default)]
    pub calibration: Option<crate::bench::NoiseFloor>,
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
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario: ScenarioInfo {
                name: plan.name.clone(),
                description: plan.description.clone(),
                file: plan.file.display().to_string(),
                seed: plan.seed,
                target: plan.target.describe(&plan.upstreams),
                primary_upstream: plan.upstreams.get(plan.primary_upstream()).map(|u| u.name.clone()),
                slo_availability: plan.slo.availability,
                slo_period_s: plan.slo.period.as_secs_f64(),
                speed: plan.speed.factor(),
                source: Some(plan.source.clone()),
            },
            verdict: crate::assert::verdict(&expectations, run.stop(), generator.kept_up),
            run,
            generator,
            phases: analysis.phases,
            overall: analysis.overall,
            timeline: analysis.timeline,
            attempt_timeline: analysis.attempt_timeline,
            burn_timeline: analysis.burn_timeline,
            expectations,
            upstreams,
            prices: analysis.prices,
            methods: crate::analysis::methods::notes(),
            environment: super::Environment::default(),
            journal: None,
            replay: None,
            tallies: Some(analysis.tallies),
            merged_from: Vec::new(),
            calibration: None,
        }
    }

    /// The same results, saying where the run ran.
    pub fn with_environment(self, environment: super::Environment) -> Self {
        Results { environment, ..self }
    }

    /// The same results, saying what the journal kept and what a replay imposed.
    pub fn with_journal(
        self,
        journal: Option<crate::metrics::journal::JournalStats>,
        replay: Option<crate::metrics::replay::ReplayStats>,
    ) -> Self {
        Results { journal, replay, ..self }
    }

    /// The same results, with the noise floor the run was calibrated with.
    pub fn with_calibration(self, calibration: Option<crate::bench::NoiseFloor>) -> Self {
        Results { calibration, ..self }
    }

    /// Writes `results.json` into `folder`, with its renderings next to it, and returns its path.
    pub fn write(&self, folder: &Path) -> anyhow::Result<PathBuf> {
        let path = write_file(folder, "results.json", serde_json::to_vec_pretty(self)?)?;
        self.write_renderings(folder)?;
        Ok(path)
    }

    /// Writes what is rendered from the results alone, `junit.xml`, `summary.md` and
    /// `report.html`, into `folder` and returns their paths.
    pub fn write_renderings(&self, folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let renderings = [
            ("junit.xml", super::render_junit(self)),
            ("summary.md", super::render_summary(self)),
            ("report.html", super::render_html(self)),
        ];
        renderings.into_iter().map(|(name, text)| write_file(folder, name, text.into_bytes())).collect()
    }
}

/// Writes `folder/name` (creating the folder) and returns its path.
fn write_file(folder: &Path, name: &str, bytes: Vec<u8>) -> anyhow::Result<PathBuf> {
    let path = folder.join(name);
    std::fs::create_dir_all(folder)
        .and_then(|()| std::fs::write(&path, bytes))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A run folder's timestamp: `20250102T030405Z`.
pub fn folder_stamp(at: time::OffsetDateTime) -> anyhow::Result<String> {
    Ok(at.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))?)
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
