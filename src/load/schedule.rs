//! The open-model schedule: the instants logical requests are *meant* to start, whatever the
//! target does. Latency is measured from these instants (coordinated-omission-correct).

use std::time::Duration;

use rand::{rngs::StdRng, Rng, SeedableRng};

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// Evenly spaced at exactly the rate.
    Constant,
    /// Exponential gaps with the rate as mean (independent arrivals).
    Poisson,
}

/// A sequence of intended start offsets; it ends only if the next one cannot be represented.
#[derive(Debug)]
pub struct Schedule {
    process: Process,
    rate: f64,
    count: u64,
    last: Duration,
    rng: StdRng,
}

impl Schedule {
    /// `rate` in requests per second (> 0); `seed` fixes Poisson gaps.
    pub fn new(process: Process, rate: f64, seed: u64) -> Self {
        Schedule { process, rate, count: 0, last: Duration::ZERO, rng: StdRng::seed_from_u64(seed) }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let next = match self.process {
            // From the count, not by adding gaps, so rounding never drifts.
            Process::Constant => Duration::try_from_secs_f64(self.count as f64 / self.rate).ok()?,
            Process::Poisson => {
                let uniform: f64 = self.rng.random();
                self.last.checked_add(Duration::try_from_secs_f64(-(1.0 - uniform).ln() / self.rate).ok()?)?
            }
        };
        self.count += 1;
        self.last = next;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let starts: Vec<_> = Schedule::new(Process::Constant, 4.0, 0).take(5).collect();
        let millis: Vec<_> = starts.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [0, 250, 500, 750, 1000]);
    }

    #[test]
    fn poisson_keeps_the_mean_rate_and_is_seeded() {
        let count = Schedule::new(Process::Poisson, 50.0, 3).take_while(|t| t.as_secs() < 100).count();
        assert!((4700..5300).contains(&count), "{count}");
        let a: Vec<_> = Schedule::new(Process::Poisson, 50.0, 3).take(10).collect();
        let b: Vec<_> = Schedule::new(Process::Poisson, 50.0, 3).take(10).collect();
        assert_eq!(a, b);
    }
}
