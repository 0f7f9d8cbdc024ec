//! The time scale of a run (`chaos run --speed F`): scenario time runs F times faster than the
//! wall clock, so a 13-minute game day plays in seconds.
//!
//! The rule: **every duration the scenario states happens F times faster; the load's arrival
//! rates stay per real second.** So under `--speed 60` a 5-minute phase lasts 5 s, a
//! `retry_after: 60s` says 1 s, a mock's 300 ms TTFT is 5 ms, a 600 rpm limit admits its 600
//! requests per 1-second "minute", the client's 0.5·2ⁿ s backoff is 8.3·2ⁿ ms — and a `20/s`
//! load still sends 20 requests each real second, so the run sends F times fewer requests.
//! Counts (burst sizes, tokens, keys) and shares (probabilities, the SLO objective) do not
//! change. What a `url` or `command` gateway does with its own clock (its backoff, cooldowns)
//! cannot be compressed; `--speed` is for the built-in client, and for tests.
//!
//! [`Speed`] holds F; [`Speed::time`] shortens a duration and [`Speed::per_time`] quickens a
//! throughput (tokens or bytes per second). The plan is scaled in
//! `crate::scenario::speed`, fault actions in `crate::fault::scale`.
//!
//! A slowdown (F below 1) stretches durations, without bound as F nears 0: a stretched duration
//! stops at [`LONGEST_STRETCH`], so that any clock reading plus any duration the harness holds
//! stays within what `Instant` can count. Whether a plan may be played that slowly at all is
//! the scenario's rule (its plan may last at most 365 days as played).

use std::{fmt, str::FromStr, time::Duration};

/// The longest a duration becomes under any speed: 100 years, longer than any run may last,
/// and short enough that adding it, or a few of it, to any clock reading cannot overflow.
pub const LONGEST_STRETCH: Duration = Duration::from_secs(100 * 365 * 86_400);

/// How many times faster than real time a scenario plays: finite and above 0; 1 is real time.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Speed(f64);

impl Speed {
    /// Real time.
    pub const REAL_TIME: Speed = Speed(1.0);

    /// `factor`, if it is a finite number above 0.
    pub fn new(factor: f64) -> Result<Self, SpeedError> {
        if factor.is_finite() && factor > 0.0 {
            Ok(Speed(factor))
        } else {
            Err(SpeedError(format!("`{factor}` is not a speed; expected a finite number above 0, like 60")))
        }
    }

    /// F.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// Whether the scenario plays in real time.
    pub fn is_real_time(self) -> bool {
        self.0 == 1.0
    }

    /// How long scenario time `duration` lasts on the wall clock (÷ F), at most
    /// [`LONGEST_STRETCH`] (or `duration` itself, if longer).
    pub fn time(self, duration: Duration) -> Duration {
        if self.is_real_time() {
            return duration;
        }
        let longest = LONGEST_STRETCH.max(duration);
        Duration::try_from_secs_f64(duration.as_secs_f64() / self.0).map_or(longest, |d| d.min(longest))
    }

    /// How long wall time `duration` stands for in scenario time (× F): the inverse of
    /// [`Speed::time`].
    pub fn scenario_time(self, duration: Duration) -> Duration {
        Speed(1.0 / self.0).time(duration)
    }

    /// A throughput per scenario second as a throughput per real second (× F).
    pub fn per_time(self, per_second: f64) -> f64 {
        per_second * self.0
    }
}

/// 1, for a record written before speeds existed.
pub fn real_time_factor() -> f64 {
    1.0
}

impl Default for Speed {
    fn default() -> Self {
        Speed::REAL_TIME
    }
}

/// F as a person writes it: `60`, `0.5`, and in scientific notation beyond a millionth or a
/// million (`1e-18`, not eighteen zeros).
impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if (1e-6..1e6).contains(&self.0) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// Why a `--speed` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpeedError(String);

impl FromStr for Speed {
    type Err = SpeedError;

    /// `60`, `0.5`, or with a trailing `x`: `60x`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = text.trim().trim_end_matches(['x', 'X']);
        let factor: f64 = number.parse().map_err(|_| {
            SpeedError(format!("`{text}` is not a speed; expected a finite number above 0, like 60"))
        })?;
        Speed::new(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MAX_DURATION;

    #[test]
    fn rejects_zero_negative_and_non_finite_factors() {
        for bad in ["0", "-2", "nan", "inf", "-inf", "fast", "", "1e999"] {
            let error = bad.parse::<Speed>().expect_err(bad);
            assert!(error.to_string().contains("expected a finite number above 0"), "{bad}: {error}");
        }
        assert!(Speed::new(f64::NAN).is_err());
        assert!(Speed::new(0.0).is_err());
    }

    #[test]
    fn reads_plain_and_suffixed_factors() {
        assert_eq!("60".parse::<Speed>().unwrap().factor(), 60.0);
        assert_eq!("2.5x".parse::<Speed>().unwrap().factor(), 2.5);
        assert_eq!("0.5".parse::<Speed>().unwrap().factor(), 0.5);
    }

    #[test]
    fn durations_shrink_and_throughputs_grow_by_the_factor() {
        let speed = Speed::new(60.0).unwrap();
        assert_eq!(speed.time(Duration::from_secs(300)), Duration::from_secs(5));
        assert_eq!(speed.time(Duration::from_secs(60)), Duration::from_secs(1));
        assert_eq!(speed.scenario_time(Duration::from_secs(2)), Duration::from_secs(120));
        assert_eq!(speed.per_time(50.0), 3000.0);
        let slower = Speed::new(0.5).unwrap();
        assert_eq!(slower.time(Duration::from_secs(3)), Duration::from_secs(6));
        assert_eq!(Speed::REAL_TIME.time(Duration::from_millis(1234)), Duration::from_millis(1234));
    }

    #[test]
    fn an_absurd_slowdown_stops_at_the_longest_stretch_a_clock_can_hold() {
        for factor in [1e-300, 1e-18, f64::MIN_POSITIVE, 5e-324] {
            let crawl = Speed::new(factor).unwrap();
            assert_eq!(crawl.time(Duration::from_secs(1)), LONGEST_STRETCH, "{factor}");
            assert!(std::time::Instant::now().checked_add(crawl.time(MAX_DURATION)).is_some());
        }
        let slow = Speed::new(1e-3).unwrap();
        assert_eq!(slow.time(Duration::from_secs(60)), Duration::from_secs(60_000), "below the bound, exact");
        let fast = Speed::new(f64::MAX).unwrap();
        assert_eq!(fast.scenario_time(Duration::from_secs(1)), LONGEST_STRETCH);
    }

    #[test]
    fn extreme_speeds_print_in_scientific_notation() {
        let shown = |factor: f64| Speed::new(factor).unwrap().to_string();
        assert_eq!(shown(60.0), "60");
        assert_eq!(shown(0.5), "0.5");
        assert_eq!(shown(1e-18), "1e-18");
        assert_eq!(shown(2.5e9), "2.5e9");
    }
}
