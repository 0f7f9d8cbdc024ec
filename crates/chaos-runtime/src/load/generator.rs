//! The generator's honesty about itself: how late each start was against its schedule, and
//! how many starts it skipped. A run whose generator fell behind measured the generator, not
//! the target, so it is marked invalid (exit 3) rather than blamed on the target.

pub use crate::results::GeneratorReport;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::metrics::{micros, Percentiles};

/// A generator's account as plain numbers: its counts, and its lateness histogram as
/// `(microseconds, count)` pairs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GeneratorParts {
    pub sent: u64,
    pub missed: u64,
    pub threads: u32,
    pub lag: Vec<(u64, u64)>,
}

/// Counts and lateness as the driver saw them.
#[derive(Debug, Clone)]
pub struct GeneratorStats {
    /// Starts sent.
    pub sent: u64,
    /// Starts skipped because `max_in_flight` requests were unfinished.
    pub missed: u64,
    /// Lateness of each sent start behind its intended instant, microseconds.
    lag: Histogram<u64>,
    /// The load threads whose accounts this is.
    threads: u32,
}

impl Default for GeneratorStats {
    fn default() -> Self {
        let lag = micros::histogram();
        GeneratorStats { sent: 0, missed: 0, lag, threads: 1 }
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

    /// Adds another shard's account of the same schedule to this one.
    pub fn absorb(&mut self, other: GeneratorStats) {
        self.sent += other.sent;
        self.missed += other.missed;
        self.threads += other.threads;
        // Both histograms have the same bounds ([`micros::histogram`]): adding cannot fail.
        let _ = self.lag.add(&other.lag);
    }

    /// The account as plain numbers, for another process to [`absorb`](Self::absorb) (a load
    /// shard's, handed to the upstreams role of a split run).
    pub fn to_parts(&self) -> GeneratorParts {
        let lag = self.lag.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        GeneratorParts { sent: self.sent, missed: self.missed, threads: self.threads, lag }
    }

    /// The account [`to_parts`](Self::to_parts) gave.
    pub fn from_parts(parts: &GeneratorParts) -> Self {
        let mut lag = micros::histogram();
        for &(micros, count) in &parts.lag {
            micros::record(&mut lag, micros, count);
        }
        GeneratorStats { sent: parts.sent, missed: parts.missed, lag, threads: parts.threads }
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
            threads: self.threads,
            lag_ms,
            max_lag_ms: max_lag.as_secs_f64() * 1000.0,
            kept_up: problems.is_empty(),
            problems,
        }
    }
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

    #[test]
    fn shards_add_up_to_one_account_whose_lateness_is_either_shards() {
        let (mut on_time, mut late) = (GeneratorStats::default(), GeneratorStats::default());
        for _ in 0..98 {
            on_time.started(Duration::from_micros(100));
        }
        on_time.missed();
        late.started(Duration::from_millis(300));
        late.started(Duration::from_millis(300));
        on_time.absorb(late);
        assert_eq!((on_time.sent, on_time.missed, on_time.threads), (100, 1, 2));
        let report = on_time.report(Duration::from_millis(50));
        assert!(report.problems.iter().any(|p| p.contains("lateness")), "the late shard's p99: {report:?}");
    }

    #[test]
    fn an_account_in_parts_reads_back_with_its_counts_and_lateness() {
        let mut stats = GeneratorStats::default();
        for micros in [120, 300, 300, 4_000, 90_000] {
            stats.started(Duration::from_micros(micros));
        }
        stats.missed();
        let parts = stats.to_parts();
        let back = GeneratorStats::from_parts(
            &serde_json::from_str(&serde_json::to_string(&parts).unwrap()).unwrap(),
        );
        let max = Duration::from_millis(50);
        assert_eq!(back.report(max), stats.report(max));
        assert_eq!(back.to_parts(), parts);
    }
}
