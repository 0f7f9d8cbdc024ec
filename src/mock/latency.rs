//! The mock's latency model: time to first token, then one token every `1 / tokens_per_second`,
//! each gap stretched or shrunk by up to `jitter` (uniform), and the number of output tokens.
//!
//! Offsets are absolute from the start of the response, so a paced stream never drifts: each
//! event is due at its own instant whatever happened to the ones before it.

use std::time::Duration;

use rand::{rngs::StdRng, Rng};

/// How long a mock takes to answer and how much it says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyModel {
    /// Time to first token (and for a non-streaming answer, to the start of generation).
    pub ttft: Duration,
    /// Output speed after the first token.
    pub tokens_per_second: f64,
    /// Relative spread of each inter-token gap, `0..1` (0.1 = ±10 %).
    pub jitter: f64,
}

impl Default for LatencyModel {
    /// Instant answers: the harness's own tests and the walking-skeleton scenarios.
    fn default() -> Self {
        LatencyModel { ttft: Duration::ZERO, tokens_per_second: f64::INFINITY, jitter: 0.0 }
    }
}

/// How many tokens a mock writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputLength {
    /// Exactly the request's `max_tokens` (or 16 when it sets none).
    UpToLimit,
    /// A fixed count, cut at the request's limit.
    Fixed(u64),
    /// Uniform in `min..=max`, cut at the request's limit.
    Uniform { min: u64, max: u64 },
}

pub use crate::wire::tokens::DEFAULT_OUTPUT_TOKENS;

impl OutputLength {
    /// The output token count for one request, and whether the request's limit cut it.
    pub fn draw(self, limit: Option<u64>, rng: &mut StdRng) -> (u64, bool) {
        let wanted = match self {
            OutputLength::UpToLimit => return (limit.unwrap_or(DEFAULT_OUTPUT_TOKENS), limit.is_some()),
            OutputLength::Fixed(n) => n,
            OutputLength::Uniform { min, max } => rng.random_range(min..=max.max(min)),
        };
        match limit {
            Some(limit) if limit < wanted => (limit, true),
            _ => (wanted.min(crate::wire::tokens::MAX_OUTPUT_TOKENS), false),
        }
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
        self.next += self.gap(rng);
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
        Duration::from_secs_f64((1.0 + spread).max(0.0) / rate)
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
        assert_eq!(OutputLength::UpToLimit.draw(Some(200), &mut rng), (200, true));
        assert_eq!(OutputLength::UpToLimit.draw(None, &mut rng), (DEFAULT_OUTPUT_TOKENS, false));
        assert_eq!(OutputLength::Fixed(50).draw(Some(200), &mut rng), (50, false));
        assert_eq!(OutputLength::Fixed(500).draw(Some(200), &mut rng), (200, true));
        for _ in 0..100 {
            let (n, _) = OutputLength::Uniform { min: 10, max: 20 }.draw(None, &mut rng);
            assert!((10..=20).contains(&n));
        }
    }
}
