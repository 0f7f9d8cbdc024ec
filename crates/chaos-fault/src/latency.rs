//! `latency`: a delay before the request goes on (so it lands before the response headers, in
//! time to first byte and first token) — fixed, or drawn per request from a uniform, normal or
//! Pareto (heavy-tailed) distribution.

use std::time::Duration;

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{
    delay::{DelayDistribution, RawLatency},
    Decision, Fault, FaultContext, RequestView,
};
use crate::{located::Checked, speed::Speed};

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
}

impl Fault for LatencyFault {
    const NAME: &'static str = "latency";
    const EXAMPLE: &'static str = "`latency: 2s`";
    type Raw = RawLatency;
    type Options = ();

    fn check(raw: &Spanned<RawLatency>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        Ok(LatencyFault { delay: DelayDistribution::check(raw)? })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        LatencyFault { delay: self.delay.at_speed(speed) }
    }

    fn on_request(&self, _request: &RequestView<'_>, rng: &mut StdRng) -> Decision {
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
