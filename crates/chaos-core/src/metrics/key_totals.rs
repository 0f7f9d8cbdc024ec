//! What the logical requests presenting one key of a target's key pool got: how many, how each
//! ended, and their latency from the intended start. Folded per phase beside the phase's own
//! totals (keys by their index in the pool, never by value), so per-key figures add up to the
//! run's and merge as exactly as the rest.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{hdr_base64, keyed, micros, LogicalRecord, Outcome};

/// One key's counts.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyTotals {
    /// Logical requests that presented the key.
    pub logical_requests: u64,
    /// Those requests by how they ended (`ok`, `http_429`, …).
    #[serde(with = "keyed")]
    #[schemars(with = "BTreeMap<String, u64>")]
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Microseconds from the intended start to the final answer's end (unfinished requests
    /// have none), HDR in its V2 encoding, deflated, in base64.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub latency: Histogram<u32>,
}

impl Default for KeyTotals {
    fn default() -> Self {
        KeyTotals { logical_requests: 0, outcomes: BTreeMap::new(), latency: micros::histogram() }
    }
}

impl KeyTotals {
    /// Adds one request that presented the key.
    pub fn add(&mut self, record: &LogicalRecord) {
        self.logical_requests += 1;
        *self.outcomes.entry(record.outcome).or_insert(0) += 1;
        if record.outcome != Outcome::Unfinished {
            micros::record(
                &mut self.latency,
                u64::try_from(record.latency().as_micros()).unwrap_or(u64::MAX),
                1,
            );
        }
    }

    /// Requests that ended this way.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    /// Adds another window's (or run's) counts.
    pub fn merge(&mut self, other: &KeyTotals) {
        self.logical_requests += other.logical_requests;
        for (outcome, count) in &other.outcomes {
            *self.outcomes.entry(*outcome).or_insert(0) += count;
        }
        // It grows as needed, so adding cannot fail for lack of range.
        let _ = self.latency.add(&other.latency);
    }
}

/// Per key index, what its requests got.
pub fn merge_keys(mine: &mut BTreeMap<usize, KeyTotals>, theirs: &BTreeMap<usize, KeyTotals>) {
    for (key, totals) in theirs {
        mine.entry(*key).or_default().merge(totals);
    }
}
