//! What a grade reads out of a run's `Results`: a phase's figures, the attempts an upstream got
//! within a phase, and the run second by second for the row's chart.

use serde::{Deserialize, Serialize};

use crate::results::{Figures, Results};

/// One second of a run: attempts at the primary and at every other upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceSecond {
    /// Seconds since the run started (wall time).
    pub second: u64,
    pub primary_attempts: u64,
    pub other_attempts: u64,
}

/// One graded run: its results, the primary upstream's name, and its report's path relative to
/// the scorecard.
#[derive(Debug, Clone, Copy)]
pub struct GradedRun<'a> {
    pub results: &'a Results,
    pub primary: &'a str,
    pub report: &'a str,
}

impl GradedRun<'_> {
    /// The phase named `name`, when it had enough requests to say anything
    /// ([`crate::results::MIN_EVENTS`]).
    pub fn phase(&self, name: &str) -> Result<&Figures, String> {
        let figures = self.results.phases.iter().find(|phase| phase.name == name);
        match figures {
            None => Err(format!("the run has no `{name}` phase")),
            Some(figures) if figures.logical_requests < crate::results::MIN_EVENTS => Err(format!(
                "the `{name}` phase sent {} requests, fewer than {}",
                figures.logical_requests,
                crate::results::MIN_EVENTS
            )),
            Some(figures) => Ok(figures),
        }
    }

    /// Why the run says nothing about faults, when its baseline answered none of its requests:
    /// the target failed before any fault (a stream it cannot relay, say), so a fault could
    /// neither cut nor stall nor bill anything.
    pub fn baseline_failed(&self) -> Option<String> {
        let baseline =
            self.results.phases.iter().find(|phase| phase.name == super::rubric::BASELINE_PHASE)?;
        (baseline.logical_requests > 0 && baseline.successes == 0).then(|| {
            format!(
                "its baseline answered none of its {} requests: the target failed before any fault",
                baseline.logical_requests
            )
        })
    }

    /// A wall-clock duration in seconds as the scenario's time (× the run's speed).
    pub fn scenario_seconds(&self, wall_s: f64) -> f64 {
        wall_s * self.results.scenario.speed
    }

    /// Attempts that arrived at the primary's interposer within the phase, per logical request
    /// of the phase.
    pub fn primary_attempts_per_request(&self, phase: &Figures) -> f64 {
        let (from, to) = (phase.start_s, phase.start_s + phase.duration_s);
        let at_primary: u64 = self
            .results
            .attempt_timeline
            .iter()
            .filter(|second| (from..to).contains(&(second.second as f64)))
            .flat_map(|second| &second.attempts)
            .filter(|count| count.upstream == self.primary)
            .map(|count| count.count)
            .sum();
        at_primary as f64 / phase.logical_requests.max(1) as f64
    }

    /// The phase's p99 latency as scenario seconds; `None` when no request had a latency.
    pub fn p99_scenario_s(&self, phase: &Figures) -> Option<f64> {
        phase.latency_ms.as_ref().map(|latency| self.scenario_seconds(latency.p99 / 1000.0))
    }

    /// Attempts a fault answered, per logical request of the phase, joined to its requests by
    /// correlation id (exact at any speed): the attempts at the primary where a fault answers
    /// every one of them and no other upstream has a fault.
    pub fn faulted_attempts_per_request(&self, phase: &Figures) -> f64 {
        phase.injected as f64 / phase.logical_requests.max(1) as f64
    }

    /// The run second by second, for the chart.
    pub fn series(&self) -> Vec<EvidenceSecond> {
        self.results
            .attempt_timeline
            .iter()
            .map(|second| {
                let (primary, other): (Vec<_>, Vec<_>) =
                    second.attempts.iter().partition(|count| count.upstream == self.primary);
                EvidenceSecond {
                    second: second.second,
                    primary_attempts: primary.iter().map(|count| count.count).sum(),
                    other_attempts: other.iter().map(|count| count.count).sum(),
                }
            })
            .collect()
    }
}
