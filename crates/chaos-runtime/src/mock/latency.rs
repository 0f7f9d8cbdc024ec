//! The plan's latency model played by a mock ([`LatencyModel`], [`OutputLength`]): time to first
//! token, then one token every `1 / tokens_per_second`, each gap stretched or shrunk by up to
//! `jitter` (uniform), and the number of output tokens.
//!
//! Offsets are absolute from the start of the response, so a paced stream never drifts: each
//! event is due at its own instant whatever happened to the ones before it.

use std::time::Duration;

use rand::{rngs::StdRng, Rng};

use crate::{
    scenario::mock_answer::{LatencyModel, OutputLength},
    speed::LONGEST_STRETCH,
};

pub use crate::wire::tokens::DEFAULT_OUTPUT_TOKENS;

/// The output token count `length` gives one request, and whether the request's limit cut it.
pub fn draw_output(length: OutputLength, limit: Option<u64>, rng: &mut StdRng) -> (u64, bool) {
    let wanted = match length {
        OutputLength::UpToLimit => return (limit.unwrap_or(DEFAULT_OUTPUT_TOKENS), limit.is_some()),
        OutputLength::Fixed(n) => n,
        OutputLength::Uniform { min, max } => rng.random_range(min..=max.max(min)),
    };
    match limit {
        Some(limit) if limit < wanted => (limit, true),
        _ => (wanted.min(crate::wire::tokens::MAX_OUTPUT_TOKENS), false),
    }
}

/// When each token of one response is due, drawn once per response.
#[derive(Debug, Clone)]
pub struct TokenClock {
    model: LatencyModel,
    next: Duration,
}

impl TokenClock {
    pub fn new(model: LatencyModel) -> Self {
        TokenClock { model, next: model.ttft }
    }

    /// The offset of the next token (the first is at `ttft`).
    pub fn next_token(&mut self, rng: &mut StdRng) -> Duration {
        let due = self.next;
        self.next = (self.next + self.gap(rng)).min(LONGEST_STRETCH);
        due
    }

    fn gap(&self, rng: &mut StdRng) -> Duration {
        let rate = self.model.tokens_per_second;
        if !rate.is_finite() || rate <= 0.0 {
            return Duration::ZERO;
        }
        let spread = if self.model.jitter > 0.0 {
            rng.random_range(-self.model.jitter..=self.model.jitter)
        } else {
            0.0
        };
        // A rate slowed to almost nothing (`--speed` far below 1) waits the longest a clock holds.
        Duration::try_from_secs_f64((1.0 + spread).max(0.0) / rate)
            .map_or(LONGEST_STRETCH, |gap| gap.min(LONGEST_STRETCH))
    }

    /// When a whole answer of `tokens` tokens is complete (for non-streaming responses).
    pub fn total(model: LatencyModel, tokens: u64, rng: &mut StdRng) -> Duration {
        let mut clock = TokenClock::new(model);
        let mut last = model.ttft;
        for _ in 0..tokens {
            last = clock.next_token(rng);
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(5)
    }

    #[test]
    fn tokens_follow_ttft_then_the_rate() {
        let model = LatencyModel { ttft: Duration::from_millis(300), tokens_per_second: 50.0, jitter: 0.0 };
        let mut clock = TokenClock::new(model);
        let offsets: Vec<u128> = (0..4).map(|_| clock.next_token(&mut rng()).as_millis()).collect();
        assert_eq!(offsets, [300, 320, 340, 360]);
        assert_eq!(TokenClock::total(model, 4, &mut rng()), Duration::from_millis(360));
    }

    #[test]
    fn a_rate_slowed_to_almost_nothing_waits_the_longest_stretch_instead_of_panicking() {
        let model = LatencyModel { ttft: Duration::ZERO, tokens_per_second: 1e-300, jitter: 0.5 };
        assert_eq!(TokenClock::total(model, 1_000, &mut rng()), LONGEST_STRETCH);
    }

    #[test]
    fn jitter_stays_within_its_bound_and_keeps_the_mean() {
        let model = LatencyModel { ttft: Duration::ZERO, tokens_per_second: 100.0, jitter: 0.2 };
        let mut clock = TokenClock::new(model);
        let mut rng = rng();
        let mut previous = clock.next_token(&mut rng);
        for _ in 0..10_000 {
            let next = clock.next_token(&mut rng);
            let gap = (next - previous).as_secs_f64();
            assert!((0.008..=0.012).contains(&gap), "{gap}");
            previous = next;
        }
        let mean = previous.as_secs_f64() / 10_000.0;
        assert!((mean - 0.01).abs() < 0.0002, "{mean}");
    }

    #[test]
    fn output_length_respects_the_request_limit() {
        let mut rng = rng();
        assert_eq!(draw_output(OutputLength::UpToLimit, Some(200), &mut rng), (200, true));
        assert_eq!(draw_output(OutputLength::UpToLimit, None, &mut rng), (DEFAULT_OUTPUT_TOKENS, false));
        assert_eq!(draw_output(OutputLength::Fixed(50), Some(200), &mut rng), (50, false));
        assert_eq!(draw_output(OutputLength::Fixed(500), Some(200), &mut rng), (200, true));
        for _ in 0..100 {
            let (n, _) = draw_output(OutputLength::Uniform { min: 10, max: 20 }, None, &mut rng);
            assert!((10..=20).contains(&n));
        }
    }
}
