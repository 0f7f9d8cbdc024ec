//! The trailing minutes of a run, kept for watching it live (progress, halt conditions): per
//! second of finish time, requests finished, succeeded, and their SLO events, over the last
//! five minutes; and, over the last [`HISTOGRAM_SECONDS`], their latency and TTFT histograms.
//! Older seconds are dropped as newer ones arrive, so the window's size is fixed.
//!
//! The histograms are also kept summed over the seconds that hold them, a second added as it
//! fills and subtracted as it leaves, so the figures shown each second cost a copy and a
//! subtraction or two, not the merge of thirty seconds: the merge ran under the recorder's lock,
//! and every load thread waited for it.

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
    histograms: Option<Box<Histograms>>,
}

impl Default for LiveSecond {
    fn default() -> Self {
        LiveSecond { finished: 0, ok: 0, slo_good: 0, slo_bad: 0, histograms: Some(Box::default()) }
    }
}

/// Latency and TTFT, in microseconds from the intended start.
#[derive(Debug, Clone)]
struct Histograms {
    latency: Histogram<u32>,
    ttft: Histogram<u32>,
}

impl Default for Histograms {
    fn default() -> Self {
        Histograms { latency: micros::histogram(), ttft: micros::histogram() }
    }
}

impl Histograms {
    fn record(&mut self, latency_us: u64, ttft_us: Option<u64>) {
        micros::record(&mut self.latency, latency_us, 1);
        if let Some(ttft_us) = ttft_us {
            micros::record(&mut self.ttft, ttft_us, 1);
        }
    }

    fn add(&mut self, other: &Histograms) {
        // Both grow as needed, so adding cannot fail for lack of range.
        let _ = self.latency.add(&other.latency);
        let _ = self.ttft.add(&other.ttft);
    }

    /// Takes `part`'s counts out of these, which hold them (they were added every value `part`
    /// was). It cannot fail for range (these have seen every value `part` has); only a count
    /// saturated at `u32::MAX` in one and not the other could make it, which a debug build
    /// reports.
    fn subtract(&mut self, part: &Histograms) {
        let latency = self.latency.subtract(&part.latency);
        let ttft = self.ttft.subtract(&part.ttft);
        debug_assert!(latency.is_ok() && ttft.is_ok(), "a second's counts exceed the window's");
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
    /// The histograms of every second that still holds them, summed.
    held: Histograms,
}

fn micros_of(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl LiveWindow {
    pub fn add(&mut self, record: &LogicalRecord) {
        let Some(good) = record.outcome.slo_good() else { return };
        let Some(index) = self.second_index(record.finished.as_secs()) else { return };
        let slot = &mut self.seconds[index];
        slot.finished += 1;
        slot.ok += u64::from(record.outcome.is_ok());
        slot.slo_good += u64::from(good);
        slot.slo_bad += u64::from(!good);
        let Some(histograms) = &mut slot.histograms else { return };
        let (latency, ttft) = (micros_of(record.latency()), record.ttft().map(micros_of));
        histograms.record(latency, ttft);
        self.held.record(latency, ttft);
    }

    /// Where the second `second` is in `seconds`, making room for it; `None` when it is older
    /// than the window.
    fn second_index(&mut self, second: u64) -> Option<usize> {
        if second < self.first {
            return None;
        }
        // Each new second pushes one out of the histogram window, and one out of the window.
        while self.first + self.seconds.len() as u64 <= second {
            self.seconds.push_back(LiveSecond::default());
            // One second more than the window is held, so a window ending at the current second
            // or the one before it can be had by subtraction.
            if let Some(leaving) = self.seconds.len().checked_sub(HISTOGRAM_SECONDS as usize + 2) {
                if let Some(leaving) = self.seconds[leaving].histograms.take() {
                    self.held.subtract(&leaving);
                }
            }
            if self.seconds.len() as u64 > COUNT_SECONDS {
                self.seconds.pop_front();
                self.first += 1;
            }
        }
        usize::try_from(second.checked_sub(self.first)?).ok().filter(|index| *index < self.seconds.len())
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
    /// [`HISTOGRAM_SECONDS`] seconds before `now_s`: the held sum less the held seconds outside
    /// them (the current one, usually), or, when most held seconds are outside (nothing finished
    /// for a while), the seconds inside added up.
    pub fn histograms(&self, now_s: u64) -> (Histogram<u32>, Histogram<u32>) {
        let from = now_s.saturating_sub(HISTOGRAM_SECONDS);
        let held = (self.first..)
            .zip(&self.seconds)
            .filter_map(|(second, slot)| Some((second, slot.histograms.as_deref()?)));
        let (inside, outside): (Vec<_>, Vec<_>) =
            held.partition(|(second, _)| (from..now_s).contains(second));
        let window = if outside.len() <= inside.len() {
            let mut window = self.held.clone();
            outside.into_iter().for_each(|(_, histograms)| window.subtract(histograms));
            window
        } else {
            let mut window = Histograms::default();
            inside.into_iter().for_each(|(_, histograms)| window.add(histograms));
            window
        };
        (window.latency, window.ttft)
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
    use crate::{
        metrics::{AnswerTiming, Outcome},
        test_support::finished_at as finished,
    };

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
        // One second more than the window is held, for a window that ends before the current one.
        assert_eq!(
            window.seconds.iter().filter(|s| s.histograms.is_some()).count() as u64,
            HISTOGRAM_SECONDS + 1
        );
    }

    /// The held sum less the seconds outside the window is the window added up from its records,
    /// whenever it is asked for: in the current second, just after it, or after a silence; with
    /// records finishing late, into a second already behind, and TTFTs as well as latencies.
    #[test]
    fn the_window_by_subtraction_is_the_window_added_up() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(5);
        let mut window = LiveWindow::default();
        let mut records = Vec::new();
        // The latest second anything finished in: the window holds the seconds up to it.
        let (mut at_ms, mut newest) = (0u64, 0u64);
        while at_ms < 120_000 {
            // Now and then a silence of up to 40 s, otherwise a few ms between records.
            at_ms += if rng.random_bool(0.001) {
                rng.random_range(1_000..40_000)
            } else {
                rng.random_range(0..30)
            };
            let latency_ms = rng.random_range(1..at_ms.clamp(2, 5_000));
            // Some finish late, in a second up to 30 s back (the window still holds it), and
            // most carry a first token.
            let finished_ms =
                if rng.random_bool(0.1) { at_ms.saturating_sub(rng.random_range(0..30_000)) } else { at_ms };
            let mut record = finished(finished_ms.max(latency_ms), latency_ms, Outcome::Ok);
            if rng.random_bool(0.8) {
                let first_token = record.intended + (record.finished - record.intended) / 2;
                record.answer = Some(AnswerTiming {
                    first_token: Some(first_token),
                    ..AnswerTiming::head_only(first_token)
                });
            }
            window.add(&record);
            newest = newest.max(record.finished.as_secs());
            records.push(record);
            if rng.random_bool(0.01) {
                for now_s in [newest, newest + 1, newest + 2, newest + 20, newest + 45] {
                    let from = now_s.saturating_sub(HISTOGRAM_SECONDS);
                    // Seconds still held: the newest HISTOGRAM_SECONDS + 1.
                    let held_from = newest.saturating_sub(HISTOGRAM_SECONDS);
                    let (mut expected, mut expected_ttft) =
                        (micros::histogram::<u32>(), micros::histogram::<u32>());
                    for record in &records {
                        let second = record.finished.as_secs();
                        if second >= held_from && (from..now_s).contains(&second) {
                            micros::record(&mut expected, micros_of(record.latency()), 1);
                            if let Some(ttft) = record.ttft() {
                                micros::record(&mut expected_ttft, micros_of(ttft), 1);
                            }
                        }
                    }
                    let (latency, ttft) = window.histograms(now_s);
                    assert_eq!(latency.len(), expected.len(), "now {now_s}, newest {newest}");
                    assert_eq!(ttft.len(), expected_ttft.len(), "TTFT, now {now_s}, newest {newest}");
                    let counts = |histogram: &Histogram<u32>| -> Vec<(u64, u32)> {
                        histogram
                            .iter_recorded()
                            .map(|v| (v.value_iterated_to(), v.count_at_value()))
                            .collect()
                    };
                    assert_eq!(counts(&latency), counts(&expected), "now {now_s}, newest {newest}");
                    assert_eq!(counts(&ttft), counts(&expected_ttft), "TTFT, now {now_s}, newest {newest}");
                    assert_eq!(latency.value_at_quantile(0.99), expected.value_at_quantile(0.99));
                }
            }
        }
    }
}
