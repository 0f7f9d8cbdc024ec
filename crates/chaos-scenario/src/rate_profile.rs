//! The rate profile of an open-model load, as the plan states it: how arrivals are spaced
//! ([`Process`]), rate segments that hold or ramp ([`Segment`]) and bursts at one instant
//! ([`Burst`]). The schedule that places each arrival from them is the load's
//! (`load::schedule`).

use std::time::Duration;

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// Evenly spaced at exactly the rate.
    Constant,
    /// Exponential gaps with the rate as mean (independent arrivals).
    Poisson,
}

/// A stretch of the run whose rate goes linearly from `from` to `to` (requests per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start: Duration,
    pub end: Duration,
    pub from: f64,
    pub to: f64,
}

impl Segment {
    fn seconds(&self) -> f64 {
        self.end.saturating_sub(self.start).as_secs_f64()
    }

    /// Arrivals the segment holds: ∫ r over it.
    pub fn area(&self) -> f64 {
        0.5 * (self.from + self.to) * self.seconds()
    }

    /// How far into the segment the cumulative count reaches `x` (0 ≤ x ≤ area).
    pub fn offset_for(&self, x: f64) -> f64 {
        let (a, b) = (self.from, (self.to - self.from) / self.seconds());
        // Solves a·τ + b·τ²/2 = x in the form that stays exact as b → 0.
        let root = (a * a + 2.0 * b * x).max(0.0).sqrt();
        if a + root > 0.0 {
            (2.0 * x / (a + root)).min(self.seconds())
        } else {
            0.0
        }
    }
}

/// `count` requests all meant to start at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub at: Duration,
    pub count: u32,
}
