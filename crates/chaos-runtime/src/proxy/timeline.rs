//! The fault timeline an interposer follows: one chain per phase, each holding until its
//! phase ends (the last holds on). The interposer picks the chain from the run clock when a
//! request arrives, so a phase starts at exactly its boundary, not when some task wakes up.

use std::time::Duration;

use crate::fault::Chain;

/// One phase's chain and when it stops holding.
#[derive(Debug)]
pub struct TimedChain {
    pub phase: usize,
    /// Offset from the run's start at which the next entry takes over.
    pub until: Duration,
    pub chain: Chain,
}

/// Chains in phase order.
#[derive(Debug)]
pub struct Timeline {
    entries: Vec<TimedChain>,
}

impl Timeline {
    /// `entries` in phase order; an empty list means no faults.
    pub fn new(entries: Vec<TimedChain>) -> Self {
        Timeline { entries }
    }

    /// One chain from now on, whatever the time.
    pub fn constant(phase: usize, chain: Chain) -> Self {
        Timeline::new(vec![TimedChain { phase, until: Duration::MAX, chain }])
    }

    /// The phase and chain in force at `at`; `None` when there are no entries.
    pub fn at(&self, at: Duration) -> Option<&TimedChain> {
        self.entries.iter().find(|entry| at < entry.until).or(self.entries.last())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(phase: usize, until_ms: u64) -> TimedChain {
        TimedChain { phase, until: Duration::from_millis(until_ms), chain: Chain::empty() }
    }

    #[test]
    fn each_phase_holds_until_its_boundary_and_the_last_holds_on() {
        let timeline = Timeline::new(vec![entry(0, 1000), entry(1, 3000)]);
        let phase = |ms| timeline.at(Duration::from_millis(ms)).map(|e| e.phase);
        assert_eq!(phase(0), Some(0));
        assert_eq!(phase(999), Some(0));
        assert_eq!(phase(1000), Some(1));
        assert_eq!(phase(60_000), Some(1));
        assert!(Timeline::new(Vec::new()).at(Duration::ZERO).is_none());
    }
}
