//! Gathers records from the load generator and the interposers while a run goes on.
//!
//! Records are kept in memory; a run of a few thousand requests a minute holds a few MB.

use std::sync::{Arc, Mutex};

use super::{AttemptRecord, LogicalRecord};

/// Everything a run recorded.
#[derive(Debug, Default, Clone)]
pub struct Records {
    pub logical: Vec<LogicalRecord>,
    pub attempts: Vec<AttemptRecord>,
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
