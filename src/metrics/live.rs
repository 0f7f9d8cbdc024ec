//! The trailing minutes of a run, kept for watching it live (progress, halt conditions): per
//! second of finish time, requests finished, succeeded, and their SLO events, over the last
//! five minutes; and, over the last [`HISTOGRAM_SECONDS`], their latency and TTFT histograms.
//! Older seconds are dropped as newer ones arrive, so the window's size is fixed.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use super::{micros, LogicalRecord};

/// How far back counts are kept: the fast paging rule's short window.
pub const COUNT_SECONDS: u64 = 300;
/// How far back latency histograms are kept.
pub const HISTOGRAM_SECONDS: u64 = 30;

/// One second of finished requests.
#[derive(Debug, Clone)]
struct LiveSecond {
    finished: u64,
    ok: u64,
    slo_good: u64,
    slo_bad: u64,
    /// Dropped once the second is older than [`HISTOGRAM_SECONDS`].
    histograms: Option<Box<(Histogram<u32>, Histogram<u32>)>>,
}

impl Default for LiveSecond {
    fn default() -> Self {
        LiveSecond {
            finished: 0,
            ok: 0,
            slo_good: 0,
            slo_bad: 0,
            histograms: Some(Box::new((micros::histogram(), micros::histogram()))),
        }
    }
}

/// Counts over a trailing window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trailing {
    pub finished: u64,
    pub ok: u64,
    pub slo_good: u64,
    pub slo_bad: u64,
}

/// The last [`COUNT_SECONDS`] seconds of finished requests.
#[derive(Debug, Clone, Default)]
pub struct LiveWindow {
    /// `seconds[i]` is second `first + i` of the run.
    seconds: VecDeque<LiveSecond>,
    first: u64,
}

fn micros_of(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl LiveWindow {
    pub fn add(&mut self, record: &LogicalRecord) {
        let Some(good) = record.outcome.slo_good() else { return };
        let Some(slot) = self.second_mut(record.finished.as_secs()) else { return };
        slot.finished += 1;
        slot.ok += u64::from(record.outcome.is_ok());
        slot.slo_good += u64::from(good);
        slot.slo_bad += u64::from(!good);
        if let Some(histograms) = &mut slot.histograms {
            micros::record(&mut histograms.0, micros_of(record.latency()), 1);
            if let Some(ttft) = record.ttft() {
                micros::record(&mut histograms.1, micros_of(ttft), 1);
            }
        }
    }

    /// The second `second`, making room for it; `None` when it is older than the window.
    fn second_mut(&mut self, second: u64) -> Option<&mut LiveSecond> {
        if second < self.first {
            return None;
        }
        // Each new second pushes one out of the histogram window, and one out of the window.
        while self.first + self.seconds.len() as u64 <= second {
            self.seconds.push_back(LiveSecond::default());
            if let Some(leaving) = self.seconds.len().checked_sub(HISTOGRAM_SECONDS as usize + 1) {
                self.seconds[leaving].histograms = None;
            }
            if self.seconds.len() as u64 > COUNT_SECONDS {
                self.seconds.pop_front();
                self.first += 1;
            }
        }
        let index = usize::try_from(second.checked_sub(self.first)?).ok()?;
        self.seconds.get_mut(index)
    }

    /// Counts over the `seconds` seconds before `now_s` (seconds `now_s - seconds .. now_s`).
    pub fn trailing(&self, now_s: u64, seconds: u64) -> Trailing {
        let mut totals = Trailing::default();
        for (_, slot) in self.window(now_s, seconds) {
            totals.finished += slot.finished;
            totals.ok += slot.ok;
            totals.slo_good += slot.slo_good;
            totals.slo_bad += slot.slo_bad;
        }
        totals
    }

    /// Latency and TTFT (microseconds, from the intended start) of the requests finished in the
    /// [`HISTOGRAM_SECONDS`] seconds before `now_s`.
    pub fn histograms(&self, now_s: u64) -> (Histogram<u32>, Histogram<u32>) {
        let (mut latency, mut ttft) = (micros::histogram(), micros::histogram());
        for histograms in
            self.window(now_s, HISTOGRAM_SECONDS).filter_map(|(_, slot)| slot.histograms.as_ref())
        {
            // Both grow as needed, so adding cannot fail for lack of range.
            let _ = latency.add(&histograms.0);
            let _ = ttft.add(&histograms.1);
        }
        (latency, ttft)
    }

    /// The seconds `now_s - seconds .. now_s` that the window still holds.
    fn window(&self, now_s: u64, seconds: u64) -> impl Iterator<Item = (u64, &LiveSecond)> {
        let from = now_s.saturating_sub(seconds);
        (self.first..).zip(&self.seconds).filter(move |(second, _)| (from..now_s).contains(second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{metrics::Outcome, test_support::finished_at as finished};

    #[test]
    fn the_window_counts_trailing_seconds_and_forgets_older_ones() {
        let mut window = LiveWindow::default();
        window.add(&finished(500, 100, Outcome::Ok));
        window.add(&finished(1_500, 200, Outcome::HttpError(503)));
        window.add(&finished(1_600, 300, Outcome::Unfinished));
        let both = window.trailing(2, 10);
        assert_eq!((both.finished, both.ok, both.slo_good, both.slo_bad), (2, 1, 1, 1));
        assert_eq!(window.histograms(2).0.len(), 2);
        let last = window.trailing(2, 1);
        assert_eq!((last.finished, last.slo_bad), (1, 1));
        // Six minutes later: the first seconds are gone, and so are their histograms.
        window.add(&finished(361_000, 50, Outcome::Ok));
        assert_eq!(window.trailing(362, 1_000).finished, 1);
        assert!(window.seconds.len() as u64 <= COUNT_SECONDS);
    }

    #[test]
    fn histograms_cover_only_the_last_thirty_seconds() {
        let mut window = LiveWindow::default();
        for second in 0..60 {
            window.add(&finished(second * 1000 + 10, 5, Outcome::Ok));
        }
        let trailing = window.trailing(60, 60);
        assert_eq!(trailing.finished, 60);
        assert_eq!(window.histograms(60).0.len(), HISTOGRAM_SECONDS);
        assert_eq!(
            window.seconds.iter().filter(|s| s.histograms.is_some()).count() as u64,
            HISTOGRAM_SECONDS
        );
    }
}
