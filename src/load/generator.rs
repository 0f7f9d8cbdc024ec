//! The generator's honesty about itself: how late each start was against its schedule, and
//! how many starts it skipped. A run whose generator fell behind measured the generator, not
//! the target, so it is marked invalid (exit 3) rather than blamed on the target.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::metrics::{micros, Percentiles};

/// Counts and lateness as the driver saw them.
#[derive(Debug, Clone)]
pub struct GeneratorStats {
    /// Starts sent.
    pub sent: u64,
    /// Starts skipped because `max_in_flight` requests were unfinished.
    pub missed: u64,
    /// Lateness of each sent start behind its intended instant, microseconds.
    lag: Histogram<u64>,
}

impl Default for GeneratorStats {
    fn default() -> Self {
        let lag = micros::histogram();
        GeneratorStats { sent: 0, missed: 0, lag }
    }
}

impl GeneratorStats {
    /// The account of a generator with no schedule (the closed model): it sent what it sent
    /// and cannot be late.
    pub fn unscheduled(sent: u64) -> Self {
        GeneratorStats { sent, ..GeneratorStats::default() }
    }

    pub fn started(&mut self, lag: Duration) {
        self.sent += 1;
        micros::record(&mut self.lag, u64::try_from(lag.as_micros()).unwrap_or(u64::MAX), 1);
    }

    pub fn missed(&mut self) {
        self.missed += 1;
    }

    /// The verdict on the generator, against the lateness it may have at p99.
    pub fn report(&self, max_lag: Duration) -> GeneratorReport {
        let lag_ms = Percentiles::of(&self.lag);
        let p99 = lag_ms.map_or(Duration::ZERO, |p| Duration::from_secs_f64(p.p99 / 1000.0));
        let mut problems = Vec::new();
        if self.missed > 0 {
            problems.push(format!(
                "{} start(s) skipped: `max_in_flight` requests were unfinished (raise `load.max_in_flight`, or the target is holding requests)",
                self.missed
            ));
        }
        if p99 > max_lag {
            problems.push(format!(
                "p99 start lateness {} exceeds `load.max_lag` {} (the generator or this machine could not keep up)",
                crate::units::HumanDuration(p99),
                crate::units::HumanDuration(max_lag)
            ));
        }
        GeneratorReport {
            sent: self.sent,
            missed: self.missed,
            lag_ms,
            max_lag_ms: max_lag.as_secs_f64() * 1000.0,
            kept_up: problems.is_empty(),
            problems,
        }
    }
}

/// The generator's section of the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratorReport {
    /// Requests started.
    pub sent: u64,
    /// Scheduled starts skipped because the generator could not start them.
    pub missed: u64,
    /// Lateness of starts behind the schedule, milliseconds.
    pub lag_ms: Option<Percentiles>,
    /// The largest lateness of a start behind the schedule, milliseconds.
    pub max_lag_ms: f64,
    /// False when the run is invalid because the generator fell behind.
    pub kept_up: bool,
    /// How it fell behind, in words; empty when it kept up.
    pub problems: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_starts_or_a_late_p99_mean_it_did_not_keep_up() {
        let mut stats = GeneratorStats::default();
        for _ in 0..99 {
            stats.started(Duration::from_micros(300));
        }
        assert!(stats.report(Duration::from_millis(50)).kept_up);
        for _ in 0..5 {
            stats.started(Duration::from_millis(200));
        }
        let late = stats.report(Duration::from_millis(50));
        assert!(!late.kept_up && late.problems[0].contains("lateness"), "{late:?}");
        let mut skipped = GeneratorStats::default();
        skipped.started(Duration::ZERO);
        skipped.missed();
        let report = skipped.report(Duration::from_secs(1));
        assert!(!report.kept_up && report.problems[0].contains("skipped"), "{report:?}");
    }
}
