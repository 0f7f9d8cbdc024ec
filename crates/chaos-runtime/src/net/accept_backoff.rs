//! What an accept loop does when accepting fails — out of descriptors (`EMFILE`, `ENFILE`),
//! most likely: it pauses, longer each time it fails again (so the connections it holds can end
//! and the waiting ones stay queued in the backlog), and says so in the log at most once every
//! [`LOG_EVERY`], with how many failures the line stands for. Descriptors are the process's,
//! so the count and the pace of the log are too: every server's loops share them.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// The log says accepting fails at most once in this long.
pub const LOG_EVERY: Duration = Duration::from_secs(5);

/// The first pause after a failure, and the longest the pauses grow to.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// One accept loop's pause after failures.
#[derive(Debug)]
pub struct AcceptBackoff {
    pause: Duration,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff { pause: FIRST_PAUSE }
    }
}

impl AcceptBackoff {
    /// A connection was accepted: the next failure starts the pauses over.
    pub fn accepted(&mut self) {
        self.pause = FIRST_PAUSE;
    }

    /// Accepting failed with `error`: counts it, logs it if the log is due, and pauses.
    pub async fn failed(&mut self, error: &std::io::Error) {
        let due = FAILURES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).note(Instant::now());
        if let Some(failures) = due {
            tracing::warn!(
                %error,
                failures,
                "accepting connections fails (out of descriptors?); pausing the accept loop, \
                 next report in {} s at the earliest",
                LOG_EVERY.as_secs()
            );
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
    }
}

/// Failures of the whole process not yet logged, and when the last line was.
static FAILURES: Mutex<FailureLog> = Mutex::new(FailureLog { unlogged: 0, last_line: None });

#[derive(Debug)]
struct FailureLog {
    unlogged: u64,
    last_line: Option<Instant>,
}

impl FailureLog {
    /// Counts one failure at `now`; returns the count to log when a line is due.
    fn note(&mut self, now: Instant) -> Option<u64> {
        self.unlogged += 1;
        if self.last_line.is_some_and(|last| now.duration_since(last) < LOG_EVERY) {
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_a_millisecond_for_a_minute_gives_one_line_per_period_with_every_failure_counted() {
        let mut log = FailureLog { unlogged: 0, last_line: None };
        let start = Instant::now();
        let lines: Vec<u64> =
            (0..60_000u64).filter_map(|ms| log.note(start + Duration::from_millis(ms))).collect();
        assert_eq!(lines.len(), 12, "{lines:?}");
        assert_eq!(lines[0], 1, "the first failure is told at once");
        assert_eq!(lines[1], 5_000, "then the count since the line before");
        assert_eq!(lines.iter().sum::<u64>() + log.unlogged, 60_000);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pause_doubles_up_to_a_second_and_starts_over_after_an_accept() {
        let mut backoff = AcceptBackoff::default();
        let error = std::io::Error::from_raw_os_error(24);
        let mut pauses = Vec::new();
        for _ in 0..9 {
            let start = tokio::time::Instant::now();
            backoff.failed(&error).await;
            pauses.push(start.elapsed().as_millis());
        }
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.accepted();
        let start = tokio::time::Instant::now();
        backoff.failed(&error).await;
        assert_eq!(start.elapsed(), FIRST_PAUSE);
    }
}
