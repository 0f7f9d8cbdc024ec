//! What every figure of a run is computed from, once its records are folded: each phase's
//! counts and HDR histograms ([`PhaseTotals`]) and the SLO events of each second. `results.json`
//! keeps them (`tallies`), so that `chaos merge` can add the tallies of runs of one scenario —
//! counts add, histograms merge exactly — and compute every figure again from the sum, through
//! the same analysis a single run goes through.

use serde::{Deserialize, Serialize};

use super::{PhaseTotals, SecondTotals};

/// A run's folded counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tallies {
    /// Per phase, in timeline order.
    pub phases: Vec<PhaseTotals>,
    /// Successes and failures of the logical requests meant to start in each second of the run,
    /// from its start (what the burn rates and the time to recover are computed from).
    pub slo_seconds: Vec<SecondTotals>,
}

impl Tallies {
    /// The whole run: every phase merged.
    pub fn overall(&self) -> PhaseTotals {
        let mut overall = PhaseTotals::default();
        for phase in &self.phases {
            overall.merge(phase);
        }
        overall
    }

    /// Adds another run's tallies, phase by phase and second by second (the callers check that
    /// both runs had the same phases).
    pub fn merge(&mut self, other: &Tallies) {
        if self.phases.len() < other.phases.len() {
            self.phases.resize_with(other.phases.len(), PhaseTotals::default);
        }
        for (mine, theirs) in self.phases.iter_mut().zip(&other.phases) {
            mine.merge(theirs);
        }
        if self.slo_seconds.len() < other.slo_seconds.len() {
            self.slo_seconds.resize(other.slo_seconds.len(), SecondTotals::default());
        }
        for (mine, theirs) in self.slo_seconds.iter_mut().zip(&other.slo_seconds) {
            mine.ok += theirs.ok;
            mine.failed += theirs.failed;
        }
    }
}
