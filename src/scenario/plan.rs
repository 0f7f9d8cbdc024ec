//! The validated plan a run executes: every name resolved to an index, every unit converted,
//! every default filled. Built only by `build`, so holding a `Plan` means it was checked.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use super::expect::Expectation;
use crate::{
    fault::FaultRule,
    load::{retry::SdkProfile, Process},
    mock::{LatencyModel, OutputLength, RateLimits},
    wire::ApiFamily,
};

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    pub seed: u64,
    pub upstreams: Vec<Upstream>,
    pub client: BuiltinTarget,
    pub load: LoadPlan,
    pub phases: Vec<Phase>,
    pub slo: Slo,
    pub expectations: Vec<Expectation>,
    pub prices: BTreeMap<String, ModelPrice>,
}

/// A provider endpoint served by a built-in mock.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub family: ApiFamily,
    pub zone: Option<String>,
    /// Keys the mock accepts; the harness makes them up, they are never real.
    pub keys: Vec<String>,
    pub latency: LatencyModel,
    pub output: OutputLength,
    pub limits: RateLimits,
    /// Chance per request of an "overloaded" answer.
    pub overload: f64,
}

/// The built-in client emulation used as the target.
#[derive(Debug, Clone)]
pub struct BuiltinTarget {
    pub retries: u32,
    /// Whose retry behaviour it emulates.
    pub profile: SdkProfile,
    pub timeout: Duration,
    /// Index of the upstream it talks to (through that upstream's interposer).
    pub upstream_index: usize,
}

/// The traffic to send.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub process: Process,
    /// Requests per second.
    pub rate: f64,
    pub model: String,
    pub prompt_tokens: u32,
    pub max_tokens: Option<u32>,
    /// Ask for a streamed answer (the client reads the whole stream).
    pub stream: bool,
    /// How long in-flight requests may take to finish after the last phase.
    pub drain: Duration,
}

/// One phase on the timeline.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub start: Duration,
    pub duration: Duration,
    /// Fault rules per upstream, indexed like [`Plan::upstreams`].
    pub faults: Vec<Vec<FaultRule>>,
    /// Upstreams whose interposer refuses connections during the phase (zone loss, `refuse`).
    pub dark: Vec<bool>,
}

impl Phase {
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }
}

/// The service level objective.
#[derive(Debug, Clone, Copy)]
pub struct Slo {
    /// Target availability as a fraction, e.g. 0.999.
    pub availability: f64,
    pub period: Duration,
}

/// US dollars per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
}

impl Plan {
    /// Total length of the timeline.
    pub fn duration(&self) -> Duration {
        self.phases.last().map_or(Duration::ZERO, Phase::end)
    }

    /// The phase whose window holds `at` (the last phase holds its own end).
    pub fn phase_at(&self, at: Duration) -> usize {
        self.phases.iter().position(|phase| at < phase.end()).unwrap_or(self.phases.len().saturating_sub(1))
    }

    /// A one-line description for `chaos validate`.
    pub fn summary(&self) -> String {
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|p| format!("{} {}", p.name, crate::units::HumanDuration(p.duration)))
            .collect();
        format!(
            "{}: {} upstream(s), {} phase(s) over {} ({}), {}/s {:?} load, {} expectation(s)",
            self.name,
            self.upstreams.len(),
            self.phases.len(),
            crate::units::HumanDuration(self.duration()),
            phases.join(" → "),
            (self.load.rate * 1000.0).round() / 1000.0,
            self.load.process,
            self.expectations.len()
        )
    }
}
