//! Gathers records from the load generator and the interposers while a run goes on.
//!
//! Records are kept in memory; a run of a few thousand requests a minute holds a few MB.
//! Inter-token gaps, one per streamed token, go straight into one HDR histogram per second of
//! intended start, so a long streaming run does not keep a sample per token.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use hdrhistogram::Histogram;

use super::{AttemptRecord, LogicalRecord};

/// Everything a run recorded.
#[derive(Debug, Default, Clone)]
pub struct Records {
    pub logical: Vec<LogicalRecord>,
    pub attempts: Vec<AttemptRecord>,
    /// Inter-token gaps in microseconds, by the second (of the run) the request was meant to
    /// start in; each histogram grows only to the largest gap it holds.
    pub token_gaps: BTreeMap<u64, Histogram<u32>>,
}

/// A cheap, cloneable handle to record into.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    records: Arc<Mutex<Records>>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder::default()
    }

    pub fn logical(&self, record: LogicalRecord) {
        self.lock().logical.push(record);
    }

    /// Adds the inter-token gaps of a request meant to start at `intended`.
    pub fn token_gaps(&self, intended: Duration, gaps_us: &[u32]) {
        if gaps_us.is_empty() {
            return;
        }
        let mut records = self.lock();
        let histogram = records.token_gaps.entry(intended.as_secs()).or_insert_with(super::micros::histogram);
        for gap in gaps_us {
            super::micros::record(histogram, u64::from(*gap), 1);
        }
    }

    pub fn attempt(&self, record: AttemptRecord) {
        self.lock().attempts.push(record);
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> Records {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
