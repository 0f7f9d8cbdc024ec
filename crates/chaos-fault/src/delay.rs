//! A delay as a scenario writes it — `2s`, or drawn per request or per event from a uniform,
//! normal or Pareto (heavy-tailed) distribution — shared by `latency` (before the request goes
//! on), `trickle` (before each stream event) and a `status` fault's `retry_after` (the wait each
//! answer asks for): its raw form, its checks, its scaling under `--speed` and its draws.

use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, Normal, Pareto};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::{
    located::{Checked, Located},
    speed::Speed,
    units::HumanDuration,
};

/// The longest delay a draw may produce (a Pareto tail is unbounded).
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// How a delay is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DelayDistribution {
    Fixed(Duration),
    Uniform {
        min: Duration,
        max: Duration,
    },
    /// Cut at zero below.
    Normal {
        mean: Duration,
        stddev: Duration,
    },
    /// `scale` is the minimum; a smaller `shape` means a heavier tail.
    Pareto {
        scale: Duration,
        shape: f64,
    },
}

impl DelayDistribution {
    /// One delay, never negative and never above `MAX_DELAY`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let seconds = match *self {
            DelayDistribution::Fixed(delay) => return delay,
            DelayDistribution::Uniform { min, max } => {
                rng.random_range(min.as_secs_f64()..=max.as_secs_f64().max(min.as_secs_f64()))
            }
            DelayDistribution::Normal { mean, stddev } => {
                Normal::new(mean.as_secs_f64(), stddev.as_secs_f64())
                    .map_or(mean.as_secs_f64(), |normal| normal.sample(rng))
            }
            DelayDistribution::Pareto { scale, shape } => Pareto::new(scale.as_secs_f64(), shape)
                .map_or(scale.as_secs_f64(), |pareto| pareto.sample(rng)),
        };
        Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(MAX_DELAY).min(MAX_DELAY)
    }
}

impl DelayDistribution {
    /// The checked distribution of a `latency` or `trickle` value.
    pub fn check(latency: &Spanned<RawLatency>) -> Checked<DelayDistribution> {
        DelayDistribution::check_key(latency, "latency")
    }

    /// The checked distribution of the value of `key`, which errors name.
    pub fn check_key(latency: &Spanned<RawLatency>, key: &str) -> Checked<DelayDistribution> {
        let here = &latency.referenced;
        let distribution = match &latency.value {
            RawLatency::Fixed(fixed) => return Ok(DelayDistribution::Fixed(fixed.0)),
            RawLatency::Distribution(distribution) => distribution,
        };
        let mut found = Vec::new();
        if let Some([min, max]) = distribution.uniform {
            if min > max {
                return Err(Located::at(
                    here,
                    format!("`uniform: [{min}, {max}]` has its minimum above its maximum"),
                ));
            }
            found.push(DelayDistribution::Uniform { min: min.0, max: max.0 });
        }
        if let Some(normal) = &distribution.normal {
            found.push(DelayDistribution::Normal { mean: normal.mean.0, stddev: normal.stddev.0 });
        }
        if let Some(pareto) = &distribution.pareto {
            if !(pareto.shape > 0.0 && pareto.shape.is_finite()) {
                return Err(Located::at(here, "a pareto `shape` must be a positive number, like `1.5`"));
            }
            found.push(DelayDistribution::Pareto { scale: pareto.scale.0, shape: pareto.shape });
        }
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Located::at(
                here,
                format!("`{key}` needs a duration or one of `uniform`, `normal`, `pareto`"),
            )),
            _ => Err(Located::at(
                here,
                format!("`{key}` takes one distribution: `uniform`, `normal` or `pareto`"),
            )),
        }
    }

    /// Every duration of this distribution ÷ the factor (a Pareto's shape is a pure number).
    pub fn at_speed(self, speed: Speed) -> DelayDistribution {
        let time = |d| speed.time(d);
        match self {
            DelayDistribution::Fixed(d) => DelayDistribution::Fixed(time(d)),
            DelayDistribution::Uniform { min, max } => {
                DelayDistribution::Uniform { min: time(min), max: time(max) }
            }
            DelayDistribution::Normal { mean, stddev } => {
                DelayDistribution::Normal { mean: time(mean), stddev: time(stddev) }
            }
            DelayDistribution::Pareto { scale, shape } => {
                DelayDistribution::Pareto { scale: time(scale), shape }
            }
        }
    }
}

/// `latency: 2s`, or a distribution: `{ uniform: [100ms, 2s] }`,
/// `{ normal: { mean: 1s, stddev: 200ms } }`, `{ pareto: { scale: 100ms, shape: 1.5 } }`.
#[derive(Debug, schemars::JsonSchema)]
#[schemars(untagged)]
pub enum RawLatency {
    Fixed(HumanDuration),
    Distribution(RawDistribution),
}

/// One of the distribution keys.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDistribution {
    #[serde(default)]
    pub uniform: Option<[HumanDuration; 2]>,
    #[serde(default)]
    pub normal: Option<RawNormal>,
    #[serde(default)]
    pub pareto: Option<RawPareto>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNormal {
    pub mean: HumanDuration,
    pub stddev: HumanDuration,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPareto {
    pub scale: HumanDuration,
    pub shape: f64,
}

impl<'de> Deserialize<'de> for RawLatency {
    /// A scalar is a fixed duration (with the duration parser's own errors); a mapping is a
    /// distribution.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Latency;
        impl<'de> serde::de::Visitor<'de> for Latency {
            type Value = RawLatency;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration like `2s`, or a distribution like `{ uniform: [100ms, 2s] }`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawLatency, E> {
                text.parse().map(RawLatency::Fixed).map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<RawLatency, E> {
                self.visit_str(&number.to_string())
            }

            fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<RawLatency, E> {
                self.visit_str(&number.to_string())
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<RawLatency, M::Error> {
                RawDistribution::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawLatency::Distribution)
            }
        }
        deserializer.deserialize_any(Latency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sixty() -> Speed {
        Speed::new(60.0).unwrap()
    }

    #[test]
    fn every_parameter_of_a_distribution_shrinks() {
        let pareto = DelayDistribution::Pareto { scale: Duration::from_secs(6), shape: 1.5 };
        assert_eq!(
            pareto.at_speed(sixty()),
            DelayDistribution::Pareto { scale: Duration::from_millis(100), shape: 1.5 }
        );
        let normal =
            DelayDistribution::Normal { mean: Duration::from_secs(15), stddev: Duration::from_secs(3) };
        assert_eq!(
            normal.at_speed(sixty()),
            DelayDistribution::Normal { mean: Duration::from_millis(250), stddev: Duration::from_millis(50) }
        );
    }
}
