//! `bandwidth`: the answer's bytes flow at no more than a given rate (a congested link). Pure
//! arithmetic here — when the nth byte may go — and one body wrapper (`net::throttled`) sleeps.

use std::time::Duration;

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{Decision, Fault, FaultContext, RequestView};
use crate::{located::Checked, speed::Speed, units::ByteRate};

/// Limits the answer to `bytes_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthFault {
    pub bytes_per_second: u64,
}

impl Fault for BandwidthFault {
    const NAME: &'static str = "bandwidth";
    const EXAMPLE: &'static str = "`bandwidth: 10KB/s`";
    /// The answer's bytes flow at no more than this rate: `10KB/s`.
    type Raw = ByteRate;
    type Options = ();

    fn check(rate: &Spanned<ByteRate>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        Ok(BandwidthFault { bytes_per_second: rate.value.0 })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        BandwidthFault {
            bytes_per_second: speed.per_time(self.bytes_per_second as f64).round().max(1.0) as u64,
        }
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
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
            BandwidthFault { bytes_per_second: 42 }
                .on_request(&RequestView::default(), &mut rand::SeedableRng::seed_from_u64(0)),
            Decision::Throttle(42)
        );
    }
}
