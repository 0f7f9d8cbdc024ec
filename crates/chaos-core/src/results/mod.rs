//! The results contract: every type `results.json` holds, in schema version [`SCHEMA_VERSION`].
//! These types are the shape of the file, owned here and nowhere else: the producers
//! (analysis, assert, load, mock, metrics, monitor, bench) fill them, `report` only reads them,
//! and the JSON Schema (`chaos schema results`) is derived from them, their doc comments being
//! its descriptions. A field that changes here changes the schema, which a test holds to the
//! frozen `schemas/results.v<N>.json` of each released version (`drift.rs`).
//!
//! Nothing here depends on the rest of the crate but the wire vocabulary (`ApiFamily`) and the
//! metrics' tallies, so the contract can sit on the bottom floor.

mod bypass;
mod checks;
#[cfg(test)]
mod drift;
mod environment;
mod figures;
mod harness;
mod keys;
mod merged;
mod preflight;
mod read;
mod schema;
mod secrets;
mod timelines;
mod upstreams;

use serde::{Deserialize, Serialize};

pub use bypass::{bypass_notes, bypassed};
pub use checks::{Check, CheckStatus, Comparison, Expectation, LatencyBasis, Metric, Verdict, MIN_EVENTS};
pub use environment::Environment;
pub use figures::{
    Figures, Fill, JoinMethod, PageCheck, Paging, Percentiles, SpectrumPoint, Transitions, SPECTRUM_QUANTILES,
};
pub use harness::{GeneratorReport, Halt, JournalStats, NoiseFloor, Profile, ReplayStats};
pub use keys::KeyFigures;
pub use merged::MergedRun;
pub use preflight::Preflight;
pub use read::ResultsFileError;
pub use schema::{results_schema, results_schema_file};
pub use secrets::{literal_secrets, redact_source, LiteralSecret, REDACTED};
pub use timelines::{AttemptCount, AttemptsSecond, BurnSecond, Second};
pub use upstreams::{AppliedPrice, CountsRow, Tally, UpstreamCounts};

/// The version this harness writes. Bumped whenever a field appears, changes meaning or
/// disappears; released versions' files stay frozen (`drift.rs`).
pub const SCHEMA_VERSION: u32 = 4;

/// The oldest version [`Results::read`] still reads: every field added since has a default, so
/// an older file reads as the newer shape with those fields empty.
pub const OLDEST_READABLE_VERSION: u32 = 1;

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
    #[serde(default = "real_time")]
    pub speed: f64,
    /// The scenario file's text, as the run read it, literal secrets replaced by `<redacted>`
    /// (`chaos merge` reads the plan back from it).
    #[serde(default)]
    pub source: Option<String>,
    /// The part of the scenario's load this run played (`--shard K/N`); absent when it played
    /// all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
}

/// Shard `index` (from 0) of `count`: a run that played 1/`count` of its scenario's load, with
/// arrivals and random draws of its own (`--shard K/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardOf {
    pub index: u32,
    pub count: u32,
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
    pub halted_by: Option<Halt>,
    /// Whether the run was a dry run: the whole plan, with no fault firing (`--dry-run`).
    #[serde(default)]
    pub dry_run: bool,
    /// RFC 3339, UTC: when the first phase started — after the target was up, and after waiting
    /// for a first phase's wall-clock `at`.
    #[serde(default)]
    pub phases_started_at: String,
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
    pub timeline: Vec<Second>,
    /// Second by second: the attempts that reached an interposer, by upstream, status and
    /// cause, and what they cost.
    #[serde(default)]
    pub attempt_timeline: Vec<AttemptsSecond>,
    /// Second by second: the rolling burn rates the paging rules watch.
    #[serde(default)]
    pub burn_timeline: Vec<BurnSecond>,
    /// The seconds each point of `timeline`, `attempt_timeline` and `burn_timeline` holds, each
    /// named by its first: 1 for a run of up to 3,600 seconds, more for a longer one, whose
    /// timelines keep at most 3,600 points. In a point of several seconds, counts and costs are
    /// summed, latency percentiles and burn rates are the highest of its seconds'.
    #[serde(default = "one_second")]
    pub timeline_step_s: u64,
    /// Each expectation of the scenario, in order, with what was observed.
    pub expectations: Vec<Check>,
    /// What each upstream received, in the scenario's order.
    pub upstreams: Vec<UpstreamCounts>,
    /// Per key of the target's key pool, in the pool's order; empty without a pool.
    #[serde(default)]
    pub keys: Vec<KeyFigures>,
    /// The price each billed model was charged at, and which table it came from.
    #[serde(default)]
    pub prices: Vec<AppliedPrice>,
    /// How figures that depend on a method were measured, by figure (`retry_after_compliance`,
    /// `duplicate_calls`, `join`).
    #[serde(default)]
    pub methods: std::collections::BTreeMap<String, String>,
    /// Where the run ran: OS and kernel, CPUs, build, the command line (secrets redacted); for
    /// a merge, where the merge ran (each run's own is in `merged_from`).
    #[serde(default)]
    pub environment: Environment,
    /// What `journal.ndjson` kept: lines written, and attempt lines dropped because its writer
    /// fell behind.
    #[serde(default)]
    pub journal: Option<JournalStats>,
    /// The journal whose fault decisions this run imposed (`--replay`), and how many it could.
    #[serde(default)]
    pub replay: Option<ReplayStats>,
    /// The counts every figure above was computed from: each phase's counters and HDR
    /// histograms, and the SLO events of each second. `chaos merge` adds these up.
    #[serde(default)]
    pub tallies: Option<crate::metrics::Tallies>,
    /// The runs this document merges (`chaos merge`), in the order given; empty for a run.
    #[serde(default)]
    pub merged_from: Vec<MergedRun>,
    /// The harness's own noise floor on the machine that ran it (`chaos run --calibrate`):
    /// what the interposer adds, how late the generator starts, how far a mock's token timing
    /// strays. `None` when not measured.
    #[serde(default)]
    pub calibration: Option<NoiseFloor>,
    /// The probes sent through a `url` or `command` target before the clock started, and what
    /// reached the interposers; `None` for the built-in client, which cannot go around them.
    #[serde(default)]
    pub preflight: Option<Preflight>,
}

impl Results {
    /// The same results, saying where the run ran.
    pub fn with_environment(self, environment: Environment) -> Self {
        Results { environment, ..self }
    }

    /// The same results, saying what the journal kept and what a replay imposed.
    pub fn with_journal(self, journal: Option<JournalStats>, replay: Option<ReplayStats>) -> Self {
        Results { journal, replay, ..self }
    }

    /// The same results, with what the preflight found.
    pub fn with_preflight(self, preflight: Option<Preflight>) -> Self {
        Results { preflight, ..self }
    }

    /// The same results, with the noise floor the run was calibrated with.
    pub fn with_calibration(self, calibration: Option<NoiseFloor>) -> Self {
        Results { calibration, ..self }
    }
}

/// A timeline's step when the file does not say (schema versions 1 and 2): every second.
fn one_second() -> u64 {
    1
}

/// A run's time scale when the file does not say: real time.
fn real_time() -> f64 {
    1.0
}
