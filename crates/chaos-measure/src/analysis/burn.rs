//! SLO burn-rate arithmetic (Google SRE Workbook, "Alerting on SLOs") as pure functions over
//! good and bad event counts:
//!
//! - burn rate BR = bad ratio / (1 − SLO): at BR 1 the error budget lasts exactly the period;
//! - budget spent in a window w of a period T = BR × w / T;
//! - rolling burn rates over per-second counts, and the multiwindow paging rules: a rule pages
//!   at a moment when its long and its short window both burn at or above its threshold.
//!
//! A game day is shorter than an hour, so most windows reach back before the run began. That
//! time is filled by a [`Fill`]: the good and bad events per second assumed for every second
//! before the run (the analysis passes its baseline's, see `slo.rs`). Windows are evaluated at
//! the end of every second of the run and never after it: what follows a game day is unknown.

pub use crate::results::{Fill, PageCheck};

/// Good and bad events of a service level indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub good: u64,
    pub bad: u64,
}

impl Tally {
    pub fn total(self) -> u64 {
        self.good + self.bad
    }
}

/// The burn rate of a tally under an availability objective (a fraction such as 0.999);
/// `None` without events, or when the objective leaves no error budget (100 %).
pub fn burn_rate(tally: Tally, objective: f64) -> Option<f64> {
    burn_rate_of(tally.bad as f64, tally.total() as f64, objective)
}

fn burn_rate_of(bad: f64, total: f64, objective: f64) -> Option<f64> {
    let budget = 1.0 - objective;
    (total > 0.0 && budget > 0.0).then(|| bad / total / budget)
}

/// The fraction of a period's error budget that burning at `burn_rate` for `window_s` seconds
/// spends; `None` for an empty period.
pub fn budget_spent(burn_rate: f64, window_s: f64, period_s: f64) -> Option<f64> {
    (period_s > 0.0).then(|| burn_rate * window_s / period_s)
}

/// Per-second tallies of a run, summed for any window that ends within it.
#[derive(Debug, Clone)]
pub struct PerSecond {
    /// `good[i]` and `bad[i]`: events in seconds `0..i` (prefix sums, one longer than the run).
    good: Vec<u64>,
    bad: Vec<u64>,
    fill: Fill,
}

impl PerSecond {
    /// `seconds[i]` holds the events of second `i` of the run.
    pub fn new(seconds: &[Tally], fill: Fill) -> Self {
        let prefix = |pick: fn(&Tally) -> u64| -> Vec<u64> {
            std::iter::once(0)
                .chain(seconds.iter().scan(0u64, move |sum, tally| {
                    *sum += pick(tally);
                    Some(*sum)
                }))
                .collect()
        };
        PerSecond { good: prefix(|t| t.good), bad: prefix(|t| t.bad), fill }
    }

    /// Seconds in the run.
    pub fn len(&self) -> usize {
        self.good.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The burn rate over the `window_s` seconds that end when second `end - 1` of the run ends,
    /// filled before the run's start.
    pub fn burn_rate_until(&self, end: usize, window_s: usize, objective: f64) -> Option<f64> {
        let end = end.min(self.len());
        let start = end.saturating_sub(window_s);
        let filled = window_s.saturating_sub(end) as f64;
        let bad = (self.bad[end] - self.bad[start]) as f64 + filled * self.fill.bad_per_s;
        let good = (self.good[end] - self.good[start]) as f64 + filled * self.fill.good_per_s;
        burn_rate_of(bad, good + bad, objective)
    }

    /// The highest burn rate over any `window_s`-second window ending within the run.
    pub fn peak_burn_rate(&self, window_s: usize, objective: f64) -> Option<f64> {
        (1..=self.len()).filter_map(|end| self.burn_rate_until(end, window_s, objective)).reduce(f64::max)
    }

    /// Whether, and when, `rule` would have paged during the run.
    pub fn page_check(&self, rule: &PageRule, objective: f64) -> PageCheck {
        let mut peak: Option<f64> = None;
        let mut first_page_at_s = None;
        for end in 1..=self.len() {
            let long = self.burn_rate_until(end, rule.long_window_s, objective);
            let short = self.burn_rate_until(end, rule.short_window_s, objective);
            let Some(both) = long.zip(short).map(|(long, short)| long.min(short)) else { continue };
            peak = Some(peak.map_or(both, |peak| peak.max(both)));
            if both >= rule.threshold && first_page_at_s.is_none() {
                first_page_at_s = Some(end as u64);
            }
        }
        PageCheck {
            rule: rule.name.to_owned(),
            long_window_s: rule.long_window_s as u64,
            short_window_s: rule.short_window_s as u64,
            threshold: rule.threshold,
            peak_burn_rate: peak,
            paged: first_page_at_s.is_some(),
            first_page_at_s,
        }
    }
}

/// A multiwindow paging rule: pages when both windows burn at `threshold` or faster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRule {
    pub name: &'static str,
    pub long_window_s: usize,
    pub short_window_s: usize,
    pub threshold: f64,
}

/// The Workbook's two paging rules for a 30-day period: 2 % of the budget in an hour
/// (BR 14.4, confirmed over 5 minutes) and 5 % in six hours (BR 6, confirmed over 30 minutes).
pub const PAGE_RULES: [PageRule; 2] = [
    PageRule { name: "1h/5m", long_window_s: 3600, short_window_s: 300, threshold: 14.4 },
    PageRule { name: "6h/30m", long_window_s: 21_600, short_window_s: 1800, threshold: 6.0 },
];

#[cfg(test)]
mod tests {
    use super::*;

    const THIRTY_DAYS_S: f64 = 30.0 * 86_400.0;

    fn close(actual: Option<f64>, expected: f64, tolerance: f64) {
        let actual = actual.expect("a value");
        assert!((actual - expected).abs() <= tolerance, "{actual} is not {expected} ± {tolerance}");
    }

    /// `seconds` seconds of `per_second` events each, `bad` of them bad.
    fn steady(seconds: usize, per_second: u64, bad: u64) -> Vec<Tally> {
        vec![Tally { good: per_second - bad, bad }; seconds]
    }

    #[test]
    fn ten_minutes_of_total_outage_at_three_nines_spends_23_percent_of_30_days() {
        let outage = Tally { good: 0, bad: 6000 };
        let rate = burn_rate(outage, 0.999);
        close(rate, 1000.0, 1e-6);
        // 1000 × 600 s / 2 592 000 s = 0.2315
        close(budget_spent(rate.unwrap(), 600.0, THIRTY_DAYS_S), 0.231, 0.0005);
    }

    #[test]
    fn burn_rate_is_the_bad_ratio_over_the_budget() {
        // 1 bad in 1000 at 99.9 %: exactly the budget's pace.
        close(burn_rate(Tally { good: 999, bad: 1 }, 0.999), 1.0, 1e-9);
        // 2 % bad at 99 %: twice the pace; an hour of it spends 2 / 720 of a 30-day budget.
        close(burn_rate(Tally { good: 98, bad: 2 }, 0.99), 2.0, 1e-9);
        close(budget_spent(2.0, 3600.0, THIRTY_DAYS_S), 2.0 / 720.0, 1e-12);
        // The Workbook's page: 2 % of the budget in an hour is BR 14.4.
        close(budget_spent(14.4, 3600.0, THIRTY_DAYS_S), 0.02, 1e-12);
        assert_eq!(burn_rate(Tally { good: 10, bad: 0 }, 0.999), Some(0.0));
    }

    #[test]
    fn no_events_or_no_budget_has_no_burn_rate() {
        assert_eq!(burn_rate(Tally::default(), 0.999), None);
        assert_eq!(burn_rate(Tally { good: 5, bad: 5 }, 1.0), None);
        assert_eq!(budget_spent(3.0, 60.0, 0.0), None);
    }

    #[test]
    fn windows_inside_the_run_count_only_its_seconds() {
        // 10 clean seconds, then 10 seconds at 10 % bad (10 events a second), at 99 %.
        let mut seconds = steady(10, 10, 0);
        seconds.extend(steady(10, 10, 1));
        // A fill that would show in any window reaching before the run.
        let run = PerSecond::new(&seconds, Fill { good_per_s: 1000.0, bad_per_s: 1000.0 });
        assert_eq!(run.len(), 20);
        close(run.burn_rate_until(20, 10, 0.99), 10.0, 1e-9);
        close(run.burn_rate_until(20, 20, 0.99), 5.0, 1e-9);
        close(run.burn_rate_until(15, 10, 0.99), 5.0, 1e-9);
        let clean_before = PerSecond::new(&seconds, Fill { good_per_s: 10.0, bad_per_s: 0.0 });
        close(clean_before.peak_burn_rate(10, 0.99), 10.0, 1e-9);
        close(clean_before.peak_burn_rate(15, 0.99), 10.0 * 10.0 / 15.0, 1e-9);
    }

    #[test]
    fn windows_reaching_before_the_run_are_filled() {
        // A 60 s window ending 20 s into a run of 20 s of total outage, 10 events a second,
        // after a baseline of 10 events a second with 1 % bad: 40 filled seconds.
        let run = PerSecond::new(&steady(20, 10, 10), Fill { good_per_s: 9.9, bad_per_s: 0.1 });
        // bad = 200 + 40 × 0.1 = 204 of 600 events → 34 % → BR 340 at 99.9 %.
        close(run.burn_rate_until(20, 60, 0.999), 340.0, 1e-6);
        // With no traffic before the run, a window sees only the run.
        let alone = PerSecond::new(&steady(20, 10, 10), Fill::default());
        close(alone.burn_rate_until(20, 60, 0.999), 1000.0, 1e-6);
    }

    #[test]
    fn ten_minutes_of_outage_pages_the_fast_rule_only_once_the_hour_burns_at_14_4() {
        // A clean baseline of 10 events a second, then 10 minutes of total outage.
        let mut seconds = steady(60, 10, 0);
        seconds.extend(steady(600, 10, 10));
        let run = PerSecond::new(&seconds, Fill { good_per_s: 10.0, bad_per_s: 0.0 });
        let fast = run.page_check(&PAGE_RULES[0], 0.999);
        // The hour burns at 14.4 once 14.4 × 0.001 × 3600 = 51.84 s of it were down: the end
        // of second 52 of the outage, 112 s into the run; the 5-minute window is at 1000 then.
        assert!(fast.paged, "{fast:?}");
        assert_eq!(fast.first_page_at_s, Some(112));
        // At the end, the hour holds 600 s of outage: BR 600 / 3600 / 0.001 = 166.7.
        close(fast.peak_burn_rate, 166.666, 0.001);
        let slow = run.page_check(&PAGE_RULES[1], 0.999);
        // Six hours burn at 6 once 6 × 0.001 × 21 600 = 129.6 s were down: second 130 of the
        // outage, 190 s into the run; the 30-minute window is at 72 then.
        assert_eq!(slow.first_page_at_s, Some(190));
        close(slow.peak_burn_rate, 600.0 / 21_600.0 / 0.001, 1e-6);
    }

    #[test]
    fn a_short_outage_burns_fast_but_does_not_page() {
        // 30 s of total outage within 60 clean seconds: the 5-minute window burns at 100,
        // the hour at 8.3, so the fast rule (both ≥ 14.4) stays quiet.
        let mut seconds = steady(30, 10, 0);
        seconds.extend(steady(30, 10, 10));
        let run = PerSecond::new(&seconds, Fill { good_per_s: 10.0, bad_per_s: 0.0 });
        close(run.peak_burn_rate(300, 0.999), 100.0, 1e-6);
        let fast = run.page_check(&PAGE_RULES[0], 0.999);
        assert!(!fast.paged, "{fast:?}");
        assert_eq!(fast.first_page_at_s, None);
        close(fast.peak_burn_rate, 30.0 / 3600.0 / 0.001, 1e-6);
    }

    #[test]
    fn a_run_without_events_has_no_peak_and_never_pages() {
        let run = PerSecond::new(&[Tally::default(); 5], Fill::default());
        assert_eq!(run.peak_burn_rate(300, 0.999), None);
        let check = run.page_check(&PAGE_RULES[0], 0.999);
        assert_eq!((check.paged, check.peak_burn_rate), (false, None));
        assert!(PerSecond::new(&[], Fill::default()).is_empty());
    }
}
