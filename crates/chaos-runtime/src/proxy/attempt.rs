//! The attempt record of one request through an interposer, written whatever happens: when the
//! answer's body ends, or, if the exchange is dropped first (the target hung up, the run
//! stopped), with what was known by then. A lost record would understate retry amplification.

use std::time::Duration;

use crate::metrics::{AttemptOutcome, AttemptRecord, Recorder, TokenUsage};

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

    /// Sets the outcome; the record is written when the guard goes. An answer made by a fault,
    /// or an upstream's answer other than a 2xx, came before any generation: nothing billed.
    pub fn answered(&mut self, outcome: AttemptOutcome, injected: bool) {
        if let Some(record) = self.record.as_mut() {
            record.outcome = outcome;
            record.injected = injected;
            if injected || !matches!(outcome, AttemptOutcome::Status(200..=299)) {
                record.usage = Some(TokenUsage::NONE);
            }
        }
    }

    /// The request goes to the upstream, which may bill its prompt even if the target hangs up
    /// before the answer: until the answer says, its estimate is billed (`None`: not known).
    pub fn forwarding(&mut self, prompt_estimate: Option<u64>) {
        self.billed(prompt_estimate.map(|input| TokenUsage { input, output: 0, estimated: true }));
    }

    /// The tokens the attempt is billed for.
    pub fn billed(&mut self, usage: Option<TokenUsage>) {
        if let Some(record) = self.record.as_mut() {
            record.usage = usage;
        }
    }

    /// Says who asked (the key's index), for what model, and whether it asked for generation.
    /// The call of an agent's task the attempt belongs to, when it says.
    pub fn of_call(&mut self, call: Option<u32>) {
        if let Some(record) = self.record.as_mut() {
            record.call = call;
        }
    }

    pub fn identify(&mut self, key: Option<String>, model: Option<String>, generation: bool) {
        if let Some(record) = self.record.as_mut() {
            record.key = key;
            record.model = model;
            record.generation = generation;
        }
    }

    /// Keeps the fault decision: the key its draws were made with and the rules that fired.
    pub fn decided(&mut self, draw_key: Option<u64>, rules: Vec<usize>) {
        if let Some(record) = self.record.as_mut() {
            record.draw_key = draw_key;
            record.rules = rules;
        }
    }

    /// Adds the labels of faults that took effect after the decision (stream faults).
    pub fn fired(&mut self, labels: impl Iterator<Item = String>) {
        if let Some(record) = self.record.as_mut() {
            record.faults.extend(labels);
        }
    }

    /// The answer asked the target to wait this long before a retry.
    pub fn asked(&mut self, wait: Option<Duration>) {
        if let Some(record) = self.record.as_mut() {
            record.retry_after = wait;
        }
    }

    /// The response head went back `after` the attempt arrived.
    pub fn head(&mut self, after: Duration) {
        if let Some(record) = self.record.as_mut() {
            record.answer.ttfb = Some(after);
        }
    }

    /// `bytes` of body went back now, the attempt having arrived at `arrived`; the clock is
    /// read for the first bytes only.
    pub fn body_bytes(&mut self, bytes: usize, arrived: tokio::time::Instant) {
        if let Some(record) = self.record.as_mut() {
            record.answer.first_byte.get_or_insert_with(|| arrived.elapsed());
            record.answer.bytes += bytes as u64;
        }
    }

    /// A content event went back now, the attempt having arrived at `arrived`; only the first
    /// is kept (and only then is the clock read).
    pub fn first_token(&mut self, arrived: tokio::time::Instant) {
        if let Some(record) = self.record.as_mut() {
            record.answer.first_token.get_or_insert_with(|| arrived.elapsed());
        }
    }

    /// The body ended `after` the attempt arrived; `completed` says whether properly.
    pub fn finished(&mut self, after: Duration, completed: bool) {
        if let Some(record) = self.record.as_mut() {
            record.answer.duration = Some(after);
            record.answer.completed = Some(completed);
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
        AttemptRecord::arrived(0, 0, Some(7), Duration::ZERO, Vec::new())
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
