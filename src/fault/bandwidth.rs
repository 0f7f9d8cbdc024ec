//! `bandwidth`: the answer's bytes flow at no more than a given rate (a congested link). Pure
//! arithmetic here — when the nth byte may go — and one body wrapper (`net::throttled`) sleeps.

use std::time::Duration;

use super::{Decision, RequestView};

/// Limits the answer to `bytes_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthFault {
    pub bytes_per_second: u64,
}

impl BandwidthFault {
    pub fn on_request(&self, _request: &RequestView<'_>) -> Decision {
        Decision::Throttle(self.bytes_per_second)
    }
}

/// When, from the answer's start, the first `bytes` may have been sent at `bytes_per_second`.
pub fn due(bytes: u64, bytes_per_second: u64) -> Duration {
    Duration::from_secs_f64(bytes as f64 / bytes_per_second.max(1) as f64)
}

/// The most bytes to send in one piece: a tenth of a second's worth (at least one byte), so
/// the pacing stays smooth for large frames.
pub fn slice(bytes_per_second: u64) -> usize {
    (bytes_per_second / 10).max(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_due_at_the_rate() {
        assert_eq!(due(0, 1000), Duration::ZERO);
        assert_eq!(due(500, 1000), Duration::from_millis(500));
        assert_eq!(due(10_000, 1000), Duration::from_secs(10));
        assert_eq!(slice(1000), 100);
        assert_eq!(slice(5), 1);
        assert_eq!(
            BandwidthFault { bytes_per_second: 42 }.on_request(&RequestView::default()),
            Decision::Throttle(42)
        );
    }
}
