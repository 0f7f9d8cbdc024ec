//! What a mocked upstream's answers are like, as the plan states it: how fast
//! ([`LatencyModel`]: time to first token, tokens per second, jitter) and how long
//! ([`OutputLength`]). The mock turns them into each answer's token times and length
//! (`mock::latency`).

use std::time::Duration;

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
