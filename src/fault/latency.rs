//! `latency`: a delay before the request goes on (so it lands before the response headers, in
//! time to first byte and first token) — fixed, or drawn per request from a uniform, normal or
//! Pareto (heavy-tailed) distribution.

use std::time::Duration;

use rand::{rngs::StdRng, Rng};
use rand_distr::{Distribution, Normal, Pareto};

use super::{Decision, RequestView};

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

/// Delays the requests it is applied to.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyFault {
    pub delay: DelayDistribution,
}

impl LatencyFault {
    /// A fixed delay.
    pub fn fixed(delay: Duration) -> Self {
        LatencyFault { delay: DelayDistribution::Fixed(delay) }
    }

    pub fn on_request(&self, _request: &RequestView<'_>, rng: &mut StdRng) -> Decision {
        Decision::Delay(self.delay.sample(rng))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn samples(distribution: DelayDistribution) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(3);
        (0..20_000).map(|_| distribution.sample(&mut rng).as_secs_f64()).collect()
    }

    #[test]
    fn a_fixed_delay_is_exact() {
        let fault = LatencyFault::fixed(Duration::from_millis(250));
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(
            fault.on_request(&RequestView::default(), &mut rng),
            Decision::Delay(Duration::from_millis(250))
        );
    }

    #[test]
    fn uniform_and_normal_have_their_shape() {
        let uniform = samples(DelayDistribution::Uniform {
            min: Duration::from_millis(100),
            max: Duration::from_millis(300),
        });
        assert!(uniform.iter().all(|s| (0.1..=0.3).contains(s)));
        let mean = uniform.iter().sum::<f64>() / uniform.len() as f64;
        assert!((mean - 0.2).abs() < 0.005, "{mean}");
        let normal = samples(DelayDistribution::Normal {
            mean: Duration::from_secs(1),
            stddev: Duration::from_millis(100),
        });
        let mean = normal.iter().sum::<f64>() / normal.len() as f64;
        let within = normal.iter().filter(|s| (0.9..=1.1).contains(*s)).count() as f64 / normal.len() as f64;
        assert!((mean - 1.0).abs() < 0.005 && (within - 0.683).abs() < 0.02, "{mean} {within}");
    }

    #[test]
    fn pareto_has_a_floor_and_a_heavy_tail() {
        let pareto = samples(DelayDistribution::Pareto { scale: Duration::from_millis(100), shape: 1.5 });
        assert!(pareto.iter().all(|s| *s >= 0.1 - 1e-9));
        // P(X > 10·scale) = 10^-1.5 ≈ 3.2 % for shape 1.5.
        let tail = pareto.iter().filter(|s| **s > 1.0).count() as f64 / pareto.len() as f64;
        assert!((tail - 0.0316).abs() < 0.006, "{tail}");
    }
}
