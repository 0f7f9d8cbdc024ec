//! How a retry's wait compares with the wait its answer asked for (`retry-after`): shorter,
//! within tolerance of the ask, or longer. Compliance only asks whether the wait was at least the
//! ask, which a fixed backoff passes whenever the ask is short; *following* the ask needs the
//! wait to track it, so a backoff that ignores `retry-after` scores low against asks that vary.
//!
//! The tolerance is `max(10 % of the ask, 250 ms)`, either side of the ask: 250 ms absorbs what
//! lies between a client deciding to wait and the interposer seeing the retry arrive (reading
//! the answer, a new connection, a scheduler's timer slack), and 10 % lets a client that rounds a
//! long ask or adds a little jitter to it still count as following it. Both are wall time: at
//! `--speed F` an ask shrinks by F while those overheads do not, so the tolerance is looser
//! there than at real time.

use std::time::Duration;

/// The least tolerance, whatever the ask.
pub const TOLERANCE_FLOOR: Duration = Duration::from_millis(250);

/// The tolerance as a share of the ask, where that is more than the floor.
pub const TOLERANCE_SHARE: f64 = 0.10;

/// How far from `asked` a wait may be and still follow it.
pub fn tolerance(asked: Duration) -> Duration {
    asked.mul_f64(TOLERANCE_SHARE).max(TOLERANCE_FLOOR)
}

/// A wait against the ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgainstAsk {
    /// More than the tolerance short of it.
    Shorter,
    /// Within the tolerance either side.
    Within,
    /// More than the tolerance beyond it.
    Longer,
}

/// Where `waited` falls against `asked`.
pub fn against_ask(waited: Duration, asked: Duration) -> AgainstAsk {
    let tolerance = tolerance(asked);
    if waited + tolerance < asked {
        AgainstAsk::Shorter
    } else if waited > asked + tolerance {
        AgainstAsk::Longer
    } else {
        AgainstAsk::Within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn the_tolerance_is_a_tenth_of_the_ask_or_a_quarter_second() {
        assert_eq!(tolerance(ms(1_000)), ms(250));
        assert_eq!(tolerance(ms(2_500)), ms(250));
        assert_eq!(tolerance(ms(5_000)), ms(500));
        assert_eq!(tolerance(Duration::ZERO), ms(250));
    }

    #[test]
    fn waits_fall_short_within_or_beyond_the_ask() {
        // Asked 4 s: 3.6 s … 4.4 s follows it; a 1 s or 2 s backoff is short, 8 s long.
        assert_eq!(against_ask(ms(4_001), ms(4_000)), AgainstAsk::Within);
        assert_eq!(against_ask(ms(3_600), ms(4_000)), AgainstAsk::Within);
        assert_eq!(against_ask(ms(4_400), ms(4_000)), AgainstAsk::Within);
        assert_eq!(against_ask(ms(3_599), ms(4_000)), AgainstAsk::Shorter);
        assert_eq!(against_ask(ms(4_401), ms(4_000)), AgainstAsk::Longer);
        assert_eq!(against_ask(ms(2_000), ms(4_000)), AgainstAsk::Shorter);
        // Asked 1.2 s: a 1 s backoff is within 250 ms of it, a 2 s one is long.
        assert_eq!(against_ask(ms(1_000), ms(1_200)), AgainstAsk::Within);
        assert_eq!(against_ask(ms(2_000), ms(1_200)), AgainstAsk::Longer);
    }
}
