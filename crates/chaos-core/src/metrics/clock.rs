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

    /// The instant at a given offset from the start.
    pub fn at(&self, offset: Duration) -> Instant {
        self.start + offset
    }
}
