//! What the upstreams saw, second by second: attempts by the second they reached an interposer,
//! counted by upstream, by how they ended and by whether a fault answered them, and the tokens
//! billed to them (priced later, by the analysis). This is where a fallback shows: the primary's
//! 429s give way to another upstream's 200s.
//!
//! Kept per second of the run, not per attempt, so its size follows the run's length, not its
//! traffic: a few counters a second for each upstream and status seen.

use std::collections::BTreeMap;

use super::{tokens::ModelTokens, AttemptOutcome, AttemptRecord};

/// Which attempts a count is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttemptKind {
    /// The upstream's index in the scenario.
    pub upstream: usize,
    pub outcome: AttemptOutcome,
    /// Whether a fault, rather than the upstream, answered.
    pub injected: bool,
}

/// The attempts of one second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptSecond {
    pub counts: BTreeMap<AttemptKind, u64>,
    pub billed: ModelTokens,
}

/// Attempts by second of arrival, from the run's start.
#[derive(Debug, Clone, Default)]
pub struct AttemptTimeline {
    seconds: Vec<AttemptSecond>,
}

impl AttemptTimeline {
    pub fn add(&mut self, attempt: &AttemptRecord) {
        let Ok(second) = usize::try_from(attempt.at.as_secs()) else { return };
        if second >= self.seconds.len() {
            self.seconds.resize_with(second + 1, AttemptSecond::default);
        }
        let totals = &mut self.seconds[second];
        let kind =
            AttemptKind { upstream: attempt.upstream, outcome: attempt.outcome, injected: attempt.injected };
        *totals.counts.entry(kind).or_insert(0) += 1;
        totals.billed.add(attempt);
    }

    /// Every second from the run's start to the last attempt's, empty ones included.
    pub fn seconds(&self) -> &[AttemptSecond] {
        &self.seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn attempt(at_ms: u64, upstream: usize, status: u16, injected: bool) -> AttemptRecord {
        let mut record =
            AttemptRecord::arrived(upstream, 0, Some(1), Duration::from_millis(at_ms), Vec::new());
        record.outcome = AttemptOutcome::Status(status);
        record.injected = injected;
        record
    }

    #[test]
    fn attempts_count_in_their_arrival_second_by_upstream_status_and_cause() {
        let mut timeline = AttemptTimeline::default();
        timeline.add(&attempt(100, 0, 429, true));
        timeline.add(&attempt(900, 0, 429, true));
        timeline.add(&attempt(950, 1, 200, false));
        timeline.add(&attempt(2_500, 0, 429, false));
        let seconds = timeline.seconds();
        assert_eq!(seconds.len(), 3, "second 1, empty, is kept so the chart has no gap");
        let injected_429 = AttemptKind { upstream: 0, outcome: AttemptOutcome::Status(429), injected: true };
        let fallback_200 = AttemptKind { upstream: 1, outcome: AttemptOutcome::Status(200), injected: false };
        assert_eq!(seconds[0].counts, BTreeMap::from([(injected_429, 2), (fallback_200, 1)]));
        assert!(seconds[1].counts.is_empty());
        let genuine_429 = AttemptKind { injected: false, ..injected_429 };
        assert_eq!(seconds[2].counts, BTreeMap::from([(genuine_429, 1)]));
    }
}
