//! The attempt record of one request through an interposer, written whatever happens: on
//! answer, or, if the request is dropped first (the target hung up, the run stopped), as
//! cancelled. A lost record would understate retry amplification.

use crate::metrics::{AttemptOutcome, AttemptRecord, Recorder};

/// Writes its record when dropped; [`AttemptGuard::answered`] fills in the outcome first.
pub struct AttemptGuard {
    record: Option<AttemptRecord>,
    recorder: Recorder,
}

impl AttemptGuard {
    /// Starts an attempt whose outcome is "cancelled" until told otherwise.
    pub fn new(mut record: AttemptRecord, recorder: Recorder) -> Self {
        record.outcome = AttemptOutcome::Cancelled;
        AttemptGuard { record: Some(record), recorder }
    }

    /// Sets the outcome; the record is written when the guard goes.
    pub fn answered(&mut self, outcome: AttemptOutcome, injected: bool) {
        if let Some(record) = self.record.as_mut() {
            record.outcome = outcome;
            record.injected = injected;
        }
    }
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.recorder.attempt(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn record() -> AttemptRecord {
        AttemptRecord {
            upstream: 0,
            phase: 0,
            logical_id: Some(7),
            at: Duration::ZERO,
            outcome: AttemptOutcome::Status(200),
            injected: false,
            faults: Vec::new(),
        }
    }

    #[test]
    fn a_dropped_attempt_is_still_recorded_as_cancelled() {
        let recorder = Recorder::new();
        drop(AttemptGuard::new(record(), recorder.clone()));
        let attempts = recorder.snapshot().attempts;
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].outcome, AttemptOutcome::Cancelled);
    }

    #[test]
    fn an_answered_attempt_keeps_its_status() {
        let recorder = Recorder::new();
        let mut guard = AttemptGuard::new(record(), recorder.clone());
        guard.answered(AttemptOutcome::Status(429), true);
        drop(guard);
        let attempts = recorder.snapshot().attempts;
        assert_eq!(attempts[0].outcome, AttemptOutcome::Status(429));
        assert!(attempts[0].injected);
    }
}
