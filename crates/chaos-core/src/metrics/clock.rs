//! The run's clock: every timestamp in the harness is an offset from the run's start, taken
//! through tokio so tests can pause and advance time.

use std::time::Duration;

use tokio::time::Instant;

/// The instant the run started; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    start: Instant,
}

impl RunClock {
    pub fn start_now() -> Self {
        RunClock { start: Instant::now() }
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The instant at a given offset from the start; an offset beyond what the clock can
    /// count (no plan has one) reads as [`crate::speed::LONGEST_STRETCH`] from the start.
    pub fn at(&self, offset: Duration) -> Instant {
        self.start.checked_add(offset).unwrap_or(self.start + crate::speed::LONGEST_STRETCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speed::LONGEST_STRETCH;

    #[test]
    fn an_offset_past_what_a_clock_counts_saturates_instead_of_panicking() {
        let clock = RunClock::start_now();
        assert_eq!(clock.at(Duration::MAX), clock.at(LONGEST_STRETCH));
        assert!(clock.at(Duration::from_secs(1)) < clock.at(Duration::MAX));
    }
}
