//! A fault rule under `--speed` ([`crate::speed`]): its action scaled by its own
//! [`Fault::at_speed`](super::Fault::at_speed) — every duration it states is shortened by the
//! factor (a `retry_after`, a latency and each of its distribution's parameters, a hang, a
//! stall's hold, every parameter of a trickle's gap, a slow close's hold), every throughput
//! quickened (a bandwidth), and a limiter's minute shortened. Counts (`after_events`) and kinds
//! do not change, nor do matching and dosing.

use super::FaultRule;
use crate::speed::Speed;

impl FaultRule {
    /// This rule with its action at `speed`; matching and dosing unchanged.
    pub fn at_speed(&self, speed: Speed) -> FaultRule {
        FaultRule { action: self.action.at_speed(speed), ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{ratelimit::RateLimits, wire::ApiFamily};
    use crate::{
        BandwidthFault, EventScope, FaultAction, HangFault, RateLimitFault, SlowCloseFault, StallFault,
        StatusFault, TrickleFault,
    };

    fn sixty() -> Speed {
        Speed::new(60.0).unwrap()
    }

    #[test]
    fn stated_durations_shrink_and_bandwidth_grows() {
        let status = FaultAction::Status(StatusFault {
            status: 429,
            family: ApiFamily::OpenAi,
            retry_after: Some(crate::delay::DelayDistribution::Fixed(Duration::from_secs(60))),
            quota: false,
            should_retry: None,
        });
        let FaultAction::Status(scaled) = status.at_speed(sixty()) else { panic!() };
        assert_eq!(scaled.retry_after, Some(crate::delay::DelayDistribution::Fixed(Duration::from_secs(1))));
        assert_eq!(scaled.status, 429);

        let stall = FaultAction::Stall(StallFault {
            after_events: 10,
            duration: Some(Duration::from_secs(30)),
            scope: EventScope::Events,
        });
        assert_eq!(
            stall.at_speed(sixty()),
            FaultAction::Stall(StallFault {
                after_events: 10,
                duration: Some(Duration::from_millis(500)),
                scope: EventScope::Events
            })
        );
        let forever = FaultAction::Hang(HangFault { duration: None });
        assert_eq!(forever.at_speed(sixty()), forever);
        let trickle = FaultAction::Trickle(TrickleFault::fixed(Duration::from_secs(3)));
        assert_eq!(
            trickle.at_speed(sixty()),
            FaultAction::Trickle(TrickleFault::fixed(Duration::from_millis(50)))
        );
        let slow_close = FaultAction::SlowClose(SlowCloseFault { hold: Duration::from_secs(6) });
        assert_eq!(
            slow_close.at_speed(sixty()),
            FaultAction::SlowClose(SlowCloseFault { hold: Duration::from_millis(100) })
        );
        let bandwidth = FaultAction::Bandwidth(BandwidthFault { bytes_per_second: 1000 });
        assert_eq!(
            bandwidth.at_speed(sixty()),
            FaultAction::Bandwidth(BandwidthFault { bytes_per_second: 60_000 })
        );
    }

    #[test]
    fn a_limiter_keeps_its_capacity_over_a_shorter_minute() {
        let limit = FaultAction::RateLimit(RateLimitFault::new(
            RateLimits::per_minute(Some(600), None),
            ApiFamily::OpenAi,
        ));
        let FaultAction::RateLimit(scaled) = limit.at_speed(sixty()) else { panic!() };
        assert_eq!(scaled.limits.rpm, Some(600));
        assert_eq!(scaled.limits.minute, Duration::from_secs(1));
    }
}
