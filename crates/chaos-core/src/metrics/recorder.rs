//! Gathers records from the load generator and the interposers while a run goes on.
//!
//! Two ways to keep them: a run folds each record into an [`Aggregate`] as it arrives
//! ([`Recorder::folding`]), so its memory stays flat however long it lasts; standalone tools and
//! tests keep every record ([`Recorder::new`]) to look at them one by one. Either way, attempts
//! can be journaled as they come ([`Recorder::journal_into`]).

use std::{
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use super::{journal::Journal, Aggregate, AttemptRecord, LogicalRecord};

/// Records kept one by one.
#[derive(Debug, Default, Clone)]
pub struct Records {
    pub logical: Vec<LogicalRecord>,
    pub attempts: Vec<AttemptRecord>,
    /// Inter-token gaps (microseconds) of the requests meant to start at each instant, when
    /// kept ([`Recorder::keeping_gaps`]).
    pub token_gaps: Vec<(Duration, Vec<u32>)>,
}

#[derive(Debug)]
enum Store {
    /// Records one by one; inter-token gaps too when the flag says so.
    Keep(Records, bool),
    Fold(Box<Aggregate>),
}

/// A cheap, cloneable handle to record into.
#[derive(Debug, Clone)]
pub struct Recorder {
    store: Arc<Mutex<Store>>,
    /// Where attempts are journaled too, until [`Recorder::close_journal`].
    journal: Arc<RwLock<Option<Journal>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// Keeps every record (inter-token gaps are not kept).
    pub fn new() -> Self {
        Recorder::with_store(Store::Keep(Records::default(), false))
    }

    /// Keeps every record and every request's inter-token gaps: what a load shard hands over
    /// to the upstreams role of a split run.
    pub fn keeping_gaps() -> Self {
        Recorder::with_store(Store::Keep(Records::default(), true))
    }

    /// Folds every record into per-phase totals for phases ending at `phase_ends`.
    pub fn folding(phase_ends: Vec<Duration>) -> Self {
        Recorder::with_store(Store::Fold(Box::new(Aggregate::new(phase_ends))))
    }

    fn with_store(store: Store) -> Self {
        Recorder { store: Arc::new(Mutex::new(store)), journal: Arc::new(RwLock::new(None)) }
    }

    /// Journals every attempt recorded from now on (every clone of this recorder does).
    pub fn journal_into(&self, journal: Journal) {
        *self.journal.write().unwrap_or_else(|p| p.into_inner()) = Some(journal);
    }

    /// Stops journaling, so the journal's writer can finish.
    pub fn close_journal(&self) {
        self.journal.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Phases now end at `phase_ends` (a phase was skipped: only boundaries after now move), for
    /// the records folded from here on.
    pub fn reschedule(&self, phase_ends: Vec<Duration>) {
        if let Store::Fold(aggregate) = &mut *self.lock() {
            aggregate.reschedule(phase_ends);
        }
    }

    /// Logical request `id`, meant to start at `intended`, has started (it places the attempts
    /// that carry its id).
    pub fn started(&self, id: u64, intended: Duration) {
        if let Store::Fold(aggregate) = &mut *self.lock() {
            aggregate.started(id, intended);
        }
    }

    pub fn logical(&self, record: LogicalRecord) {
        match &mut *self.lock() {
            Store::Keep(records, _) => records.logical.push(record),
            Store::Fold(aggregate) => aggregate.logical(&record),
        }
    }

    /// Adds the inter-token gaps of a request meant to start at `intended`.
    pub fn token_gaps(&self, intended: Duration, gaps_us: &[u32]) {
        if gaps_us.is_empty() {
            return;
        }
        match &mut *self.lock() {
            Store::Fold(aggregate) => aggregate.token_gaps(intended, gaps_us),
            Store::Keep(records, true) => records.token_gaps.push((intended, gaps_us.to_vec())),
            Store::Keep(_, false) => {}
        }
    }

    pub fn attempt(&self, record: AttemptRecord) {
        if let Some(journal) = &*self.journal.read().unwrap_or_else(|p| p.into_inner()) {
            journal.attempt(&record);
        }
        match &mut *self.lock() {
            Store::Keep(records, _) => records.attempts.push(record),
            Store::Fold(aggregate) => aggregate.attempt(&record),
        }
    }

    /// A copy of the records kept so far (none, when folding).
    pub fn snapshot(&self) -> Records {
        match &*self.lock() {
            Store::Keep(records, _) => records.clone(),
            Store::Fold(_) => Records::default(),
        }
    }

    /// The records kept so far, taken out (none, when folding): what a shard hands over, without
    /// a copy.
    pub fn take(&self) -> Records {
        match &mut *self.lock() {
            Store::Keep(records, _) => std::mem::take(records),
            Store::Fold(_) => Records::default(),
        }
    }

    /// What was recorded, folded for phases ending at `phase_ends`.
    pub fn aggregate(&self, phase_ends: Vec<Duration>) -> Aggregate {
        match &*self.lock() {
            Store::Keep(records, _) => Aggregate::from_records(phase_ends, records),
            Store::Fold(aggregate) => aggregate.settled(),
        }
    }

    /// `look` applied to the records folded so far, under the lock (so keep it short); `None`
    /// when records are kept one by one instead.
    pub fn with_aggregate<R>(&self, look: impl FnOnce(&Aggregate) -> R) -> Option<R> {
        match &*self.lock() {
            Store::Keep(..) => None,
            Store::Fold(aggregate) => Some(look(aggregate)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
