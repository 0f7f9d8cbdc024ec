//! The record of a logical request that never finished: a guard each request holds while it
//! runs. Dropped before it is disarmed — the drain stopped the request's task — it records the
//! request as [`Outcome::Unfinished`], so nothing started goes unrecorded, without a shared
//! table of requests in flight.

use std::time::Duration;

use crate::metrics::{LogicalRecord, Outcome, Recorder, RunClock};

/// Records its request as unfinished if dropped while armed.
pub struct Unfinished {
    id: u64,
    intended: Duration,
    /// The pool key it presents, if the target has a pool.
    key: Option<usize>,
    /// When the request went out (its start, until a connection was free).
    pub sent: Duration,
    recorder: Recorder,
    clock: RunClock,
    armed: bool,
}

impl Unfinished {
    pub fn new(id: u64, intended: Duration, key: Option<usize>, recorder: Recorder, clock: RunClock) -> Self {
        Unfinished { id, intended, key, sent: clock.elapsed(), recorder, clock, armed: true }
    }

    /// The request finished and will be recorded as it ended.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.armed {
            self.recorder.logical(LogicalRecord {
                id: self.id,
                intended: self.intended,
                sent: self.sent,
                finished: self.clock.elapsed(),
                client_attempts: 0,
                outcome: Outcome::Unfinished,
                served_by: None,
                answer: None,
                key: self.key,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_request_dropped_unfinished_is_recorded() {
        let recorder = Recorder::new();
        let clock = RunClock::start_now();
        Unfinished::new(1, Duration::ZERO, None, recorder.clone(), clock).disarm();
        drop(Unfinished::new(2, Duration::from_secs(1), Some(1), recorder.clone(), clock));
        let logical = recorder.snapshot().logical;
        assert_eq!(logical.len(), 1);
        assert_eq!((logical[0].id, logical[0].outcome, logical[0].key), (2, Outcome::Unfinished, Some(1)));
    }
}
