//! The timings of logical requests that need their attempts side by side (`joins.rs`), kept as
//! HDR histograms of microseconds so that `chaos merge` adds them exactly:
//!
//! - **Retry gaps**: between consecutive attempts of one request (by arrival at the
//!   interposers), from the earlier attempt's answer end to the next attempt's arrival, by the
//!   upstream of the later attempt: how long the target waited before trying again, wherever
//!   it went.
//! - **Failover**: per request that moved off the upstream it started at, from the end of its
//!   first failed answer there to the arrival of its first attempt at another upstream.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{hdr_base64, joins::JoinTotals, micros};

/// What one logical request's attempts, joined, contribute to its phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    /// Its counts: retries asked to wait and how they waited, duplicates.
    pub totals: JoinTotals,
    /// Each gap before a retry, with the upstream the retry went to.
    pub gaps: Vec<(usize, Duration)>,
    /// How long it took to reach another upstream once its first one failed it, if it did.
    pub failover: Option<Duration>,
}

/// A phase's retry gaps and failover times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GapTotals {
    /// Microseconds from an attempt's answer end to the next attempt's arrival, by the index of
    /// the upstream the next attempt went to (HDR histograms, encoded as the other tallies).
    #[serde(with = "hdr_base64::by_key")]
    #[schemars(with = "BTreeMap<usize, String>")]
    pub retry_gaps: BTreeMap<usize, Histogram<u32>>,
    /// Microseconds from a request's first failed answer at the upstream it started at to its
    /// first attempt at another one.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub failover: Histogram<u32>,
}

impl Default for GapTotals {
    fn default() -> Self {
        GapTotals { retry_gaps: BTreeMap::new(), failover: micros::histogram() }
    }
}

fn record(histogram: &mut Histogram<u32>, duration: Duration) {
    micros::record(histogram, u64::try_from(duration.as_micros()).unwrap_or(u64::MAX), 1);
}

impl GapTotals {
    /// Adds one request's gaps and failover time.
    pub fn add(&mut self, settled: &Settled) {
        for (upstream, gap) in &settled.gaps {
            record(self.retry_gaps.entry(*upstream).or_insert_with(micros::histogram), *gap);
        }
        if let Some(failover) = settled.failover {
            record(&mut self.failover, failover);
        }
    }

    /// Every retry gap, whatever the upstream.
    pub fn all_retry_gaps(&self) -> Histogram<u32> {
        let mut all = micros::histogram();
        for histogram in self.retry_gaps.values() {
            // Both grow as needed, so adding cannot fail for lack of range.
            let _ = all.add(histogram);
        }
        all
    }

    /// Adds another phase's (or run's): histograms merge exactly.
    pub fn merge(&mut self, other: &GapTotals) {
        for (upstream, theirs) in &other.retry_gaps {
            let _ = self.retry_gaps.entry(*upstream).or_insert_with(micros::histogram).add(theirs);
        }
        let _ = self.failover.add(&other.failover);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn gaps_keep_their_upstream_and_merge_exactly_through_json() {
        let mut first = GapTotals::default();
        first.add(&Settled {
            gaps: vec![(0, ms(1_000)), (1, ms(3))],
            failover: Some(ms(3)),
            ..Settled::default()
        });
        let mut second = GapTotals::default();
        second.add(&Settled { gaps: vec![(0, ms(2_000))], ..Settled::default() });
        let text = serde_json::to_string(&second).expect("serializes");
        let read: GapTotals = serde_json::from_str(&text).expect("reads back");
        assert_eq!(read, second);
        first.merge(&read);
        assert_eq!(first.retry_gaps[&0].len(), 2);
        assert_eq!(first.retry_gaps[&1].len(), 1);
        assert_eq!(first.all_retry_gaps().len(), 3);
        assert_eq!(first.failover.len(), 1);
        let upstream_zero = &first.retry_gaps[&0];
        assert!(upstream_zero.equivalent(upstream_zero.max(), 2_000_000), "{}", upstream_zero.max());
    }
}
