//! `slow_close`: every event of the stream arrives on time, terminator included, but the
//! response does not end until `hold` later — toxiproxy's `slow_close`, at the HTTP level. A
//! client that reads to the end of the body instead of stopping at `[DONE]` (or
//! `message_stop`) hangs on a finished answer; one that stops at the terminator never notices.

use std::time::Duration;

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{Decision, Fault, FaultContext, RequestView};
use crate::{located::Checked, speed::Speed, units::HumanDuration};

/// Holds the end of the stream for `hold` after its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowCloseFault {
    pub hold: Duration,
}

impl Fault for SlowCloseFault {
    const NAME: &'static str = "slow_close";
    const EXAMPLE: &'static str = "`slow_close: 5s`";
    /// A stream stays open this long after its last event: `slow_close: 5s`.
    type Raw = HumanDuration;
    type Options = ();

    fn check(hold: &Spanned<HumanDuration>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        Ok(SlowCloseFault { hold: hold.value.0 })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        SlowCloseFault { hold: speed.time(self.hold) }
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    /// How long the stream stays open once everything is written.
    fn on_end(&self) -> Duration {
        self.hold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_is_held_for_the_stated_time() {
        let fault = SlowCloseFault { hold: Duration::from_secs(5) };
        assert_eq!(fault.on_end(), Duration::from_secs(5));
    }
}
