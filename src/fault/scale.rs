//! A fault action under `--speed` ([`crate::speed`]): every duration it states is shortened by
//! the factor (a `retry_after`, a latency and each of its distribution's parameters, a hang, a
//! stall's hold, every parameter of a trickle's gap, a slow close's hold), every throughput
//! quickened (a bandwidth), and a limiter's minute shortened. Counts (`after_events`) and kinds
//! do not change.

use super::{
    BandwidthFault, DelayDistribution, FaultAction, FaultRule, HangFault, LatencyFault, RateLimitFault,
    SlowCloseFault, StallFault, StatusFault, TrickleFault,
};
use crate::speed::Speed;

impl FaultRule {
    /// This rule with its action at `speed`; matching and dosing unchanged.
    pub fn at_speed(&self, speed: Speed) -> FaultRule {
        FaultRule { action: self.action.at_speed(speed), ..self.clone() }
    }
}

impl FaultAction {
    /// This action at `speed`. A limiter gets fresh buckets: scaling happens before a run.
    pub fn at_speed(&self, speed: Speed) -> FaultAction {
        let time = |d| speed.time(d);
        match self {
            FaultAction::Status(fault) => {
                FaultAction::Status(StatusFault { retry_after: fault.retry_after.map(time), ..fault.clone() })
            }
            FaultAction::Latency(fault) => {
                FaultAction::Latency(LatencyFault { delay: delay_at_speed(fault.delay, speed) })
            }
            FaultAction::Hang(fault) => FaultAction::Hang(HangFault { duration: fault.duration.map(time) }),
            FaultAction::Stall(fault) => {
                FaultAction::Stall(StallFault { duration: fault.duration.map(time), ..fault.clone() })
            }
            FaultAction::Trickle(fault) => {
                FaultAction::Trickle(TrickleFault { gap: delay_at_speed(fault.gap, speed), ..fault.clone() })
            }
            FaultAction::SlowClose(fault) => {
                FaultAction::SlowClose(SlowCloseFault { hold: time(fault.hold) })
            }
            FaultAction::Bandwidth(fault) => FaultAction::Bandwidth(BandwidthFault {
                bytes_per_second: speed.per_time(fault.bytes_per_second as f64).round().max(1.0) as u64,
            }),
            FaultAction::RateLimit(fault) => {
                FaultAction::RateLimit(RateLimitFault::new(fault.limits.at_speed(speed), fault.family))
            }
            FaultAction::Cut(_) | FaultAction::Drop(_) | FaultAction::Inject(_) | FaultAction::Reset(_) => {
                self.clone()
            }
        }
    }
}

/// Every duration of a delay distribution ÷ the factor (a Pareto's shape is a pure number).
fn delay_at_speed(delay: DelayDistribution, speed: Speed) -> DelayDistribution {
    let time = |d| speed.time(d);
    match delay {
        DelayDistribution::Fixed(d) => DelayDistribution::Fixed(time(d)),
        DelayDistribution::Uniform { min, max } => {
            DelayDistribution::Uniform { min: time(min), max: time(max) }
        }
        DelayDistribution::Normal { mean, stddev } => {
            DelayDistribution::Normal { mean: time(mean), stddev: time(stddev) }
        }
        DelayDistribution::Pareto { scale, shape } => DelayDistribution::Pareto { scale: time(scale), shape },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{ratelimit::RateLimits, wire::ApiFamily};

    fn sixty() -> Speed {
        Speed::new(60.0).unwrap()
    }

    #[test]
    fn stated_durations_shrink_and_bandwidth_grows() {
        let status = FaultAction::Status(StatusFault {
            status: 429,
            family: ApiFamily::OpenAi,
            retry_after: Some(Duration::from_secs(60)),
            quota: false,
            should_retry: None,
        });
        let FaultAction::Status(scaled) = status.at_speed(sixty()) else { panic!() };
        assert_eq!(scaled.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(scaled.status, 429);

        let stall =
            FaultAction::Stall(StallFault { after_events: 10, duration: Some(Duration::from_secs(30)) });
        assert_eq!(
            stall.at_speed(sixty()),
            FaultAction::Stall(StallFault { after_events: 10, duration: Some(Duration::from_millis(500)) })
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
    fn every_parameter_of_a_latency_distribution_shrinks() {
        let pareto = DelayDistribution::Pareto { scale: Duration::from_secs(6), shape: 1.5 };
        assert_eq!(
            delay_at_speed(pareto, sixty()),
            DelayDistribution::Pareto { scale: Duration::from_millis(100), shape: 1.5 }
        );
        let normal =
            DelayDistribution::Normal { mean: Duration::from_secs(15), stddev: Duration::from_secs(3) };
        assert_eq!(
            delay_at_speed(normal, sixty()),
            DelayDistribution::Normal { mean: Duration::from_millis(250), stddev: Duration::from_millis(50) }
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
