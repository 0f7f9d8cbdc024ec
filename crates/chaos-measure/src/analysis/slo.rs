//! A run's SLO events and the burn figures made from them: good and bad events per second, the
//! baseline that fills windows reaching back before the run, the peak 5-minute burn rate, and
//! whether the Workbook's paging rules would have fired (arithmetic in [`super::burn`]).
//!
//! The events are logical requests, what users see. A request counts in the second its
//! schedule meant it to start ([`crate::metrics::LogicalRecord::intended`]), like its phase. A success
//! ([`Outcome::is_ok`]) is good and any other ending bad, except [`Outcome::Unfinished`], which
//! is neither: the drain cut it off at an arbitrary moment, so nobody knows how it would have
//! ended. (The `error_rate` figure counts it as a failure; burn rates leave it out.)
//!
//! The fill: a game day is shorter than the paging rules' windows, so the time a window reaches
//! back before the run is assumed to have gone like the baseline, the first phase, at its good
//! and bad events per second. When the first phase injects faults it is no baseline, and the
//! time before the run is assumed clean, at the run's mean request rate: the game day is judged
//! on what it injected, never on its faults extrapolated over hours.

pub use crate::results::{BurnSecond, Paging};

use super::burn::{Fill, PageCheck, PerSecond, Tally, PAGE_RULES};
use crate::{
    metrics::{Outcome, PhaseTotals, Tallies},
    scenario::Plan,
};

/// The window of the peak rolling burn rate reported for the run.
pub const PEAK_WINDOW_S: usize = 300;

/// Adds `count` requests that ended with `outcome` to a tally ([`Outcome::slo_good`]: an
/// unfinished one counts as nothing).
pub fn count(tally: &mut Tally, outcome: Outcome, count: u64) {
    match outcome.slo_good() {
        Some(true) => tally.good += count,
        Some(false) => tally.bad += count,
        None => {}
    }
}

/// The SLO events of one phase (or the run).
pub fn tally(totals: &PhaseTotals) -> Tally {
    let mut tally = Tally::default();
    for (outcome, requests) in &totals.outcomes {
        count(&mut tally, *outcome, *requests);
    }
    tally
}

/// The run's peak 5-minute burn rate and its paging checks.
pub fn run_burn(plan: &Plan, tallies: &Tallies) -> (Option<f64>, Paging) {
    let (baseline, fill, run) = run_seconds(plan, tallies);
    let objective = plan.slo.availability;
    let rules: Vec<PageCheck> = PAGE_RULES.iter().map(|rule| run.page_check(rule, objective)).collect();
    let paged = rules.iter().any(|rule| rule.paged);
    (run.peak_burn_rate(PEAK_WINDOW_S, objective), Paging { baseline, fill, rules, paged })
}

/// [`BurnSecond`] for every second of the run, windows filled before it as for the paging
/// checks, in buckets of `step` seconds ([`super::downsample::burn`]; 1 keeps every second).
pub fn burn_timeline(plan: &Plan, tallies: &Tallies, step: u64) -> Vec<BurnSecond> {
    let (_, _, run) = run_seconds(plan, tallies);
    let objective = plan.slo.availability;
    let [fast, slow] = PAGE_RULES;
    let seconds = (1..=run.len()).map(|end| {
        let rate = |window_s| run.burn_rate_until(end, window_s, objective);
        BurnSecond {
            second: end as u64 - 1,
            burn_rate_5m: rate(fast.short_window_s),
            burn_rate_1h: rate(fast.long_window_s),
            burn_rate_30m: rate(slow.short_window_s),
            burn_rate_6h: rate(slow.long_window_s),
        }
    });
    super::downsample::burn(seconds, step)
}

/// The run's events per second with the fill before it, and the baseline the fill came from.
fn run_seconds(plan: &Plan, tallies: &Tallies) -> (Option<String>, Fill, PerSecond) {
    let seconds = per_second(tallies, plan.duration().as_secs_f64().ceil() as usize);
    let (baseline, fill) = fill(plan, tallies, &seconds);
    (baseline, fill, PerSecond::new(&seconds, fill))
}

/// Events per second of the run, by intended start; a request after the last second counts in it.
fn per_second(run: &Tallies, seconds: usize) -> Vec<Tally> {
    let mut tallies = vec![Tally::default(); seconds];
    for (second, totals) in run.slo_seconds.iter().enumerate() {
        if let Some(tally) = tallies.get_mut(second.min(seconds.saturating_sub(1))) {
            tally.good += totals.ok;
            tally.bad += totals.failed;
        }
    }
    tallies
}

/// The baseline's name (if the first phase is one) and the fill it gives.
fn fill(plan: &Plan, tallies: &Tallies, seconds: &[Tally]) -> (Option<String>, Fill) {
    let per_s =
        |events: u64, duration_s: f64| if duration_s > 0.0 { events as f64 / duration_s } else { 0.0 };
    match plan.phases.first().filter(|phase| phase.is_clean()) {
        Some(baseline) => {
            let tally = tallies.phases.first().map(tally).unwrap_or_default();
            let duration_s = baseline.duration.as_secs_f64();
            let fill =
                Fill { good_per_s: per_s(tally.good, duration_s), bad_per_s: per_s(tally.bad, duration_s) };
            (Some(baseline.name.clone()), fill)
        }
        None => {
            let events: u64 = seconds.iter().map(|tally| tally.total()).sum();
            (None, Fill { good_per_s: per_s(events, seconds.len() as f64), bad_per_s: 0.0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        metrics::Aggregate,
        test_support::{calm_then_down, requests},
    };

    fn burn(plan: &Plan, logical: Vec<crate::metrics::LogicalRecord>) -> (Option<f64>, Paging) {
        let records = crate::metrics::Records { logical, ..Default::default() };
        run_burn(plan, &Aggregate::from_records(plan.phase_ends(), &records).tallies())
    }

    #[test]
    fn unfinished_requests_are_neither_good_nor_bad() {
        let mut tally = Tally::default();
        for outcome in [Outcome::Ok, Outcome::Unfinished, Outcome::Timeout, Outcome::HttpError(503)] {
            count(&mut tally, outcome, 1);
        }
        assert_eq!(tally, Tally { good: 1, bad: 2 });
    }

    #[test]
    fn a_clean_first_phase_fills_the_windows_at_its_own_rates() {
        let (plan, mut logical) = calm_then_down(10, 10, "", "");
        logical[0].outcome = Outcome::Timeout;
        let (peak, paging) = burn(&plan, logical);
        assert_eq!(paging.baseline.as_deref(), Some("calm"));
        assert_eq!(paging.fill, Fill { good_per_s: 9.9, bad_per_s: 0.1 });
        // The last 5 minutes: 280 filled seconds (28 bad of 2800) and the run's 20 (101 bad of
        // 200): 129 / 3000 = 4.3 % bad, BR 4.3 at 99 %.
        assert!((peak.unwrap() - 4.3).abs() < 1e-9, "{peak:?}");
        let fast = &paging.rules[0];
        assert_eq!((fast.rule.as_str(), fast.paged), ("1h/5m", false));
        assert!(!paging.paged);
    }

    #[test]
    fn each_phase_and_the_run_report_their_burn_and_budget() {
        let (plan, mut logical) = calm_then_down(10, 10, "", "");
        // Half the outage was cut off by the drain: neither good nor bad, so it burns at 100 all the same.
        logical[150..].iter_mut().for_each(|r| r.outcome = Outcome::Unfinished);
        let records = crate::metrics::Records { logical, ..Default::default() };
        let analysis = crate::analysis::analyze_records(&plan, &records);
        let [calm, down] = &analysis.phases[..] else { panic!("two phases") };
        assert_eq!((calm.burn_rate, calm.budget_spent), (Some(0.0), Some(0.0)));
        // BR 1 / (1 − 0.99) = 100 for 10 s of a 1-day period: 100 × 10 / 86 400 = 1.157 %.
        assert!((down.burn_rate.unwrap() - 100.0).abs() < 1e-9, "{:?}", down.burn_rate);
        assert!((down.budget_spent.unwrap() - 1000.0 / 86_400.0).abs() < 1e-9, "{:?}", down.budget_spent);
        assert_eq!(down.error_rate, Some(1.0), "the error rate counts unfinished requests as failed");
        // Overall: 50 bad of 150 finished = 1/3 bad, BR 33.3, for 20 s.
        let overall = &analysis.overall;
        assert!((overall.burn_rate.unwrap() - 100.0 / 3.0).abs() < 1e-9, "{:?}", overall.burn_rate);
        assert!((overall.budget_spent.unwrap() - 100.0 / 3.0 * 20.0 / 86_400.0).abs() < 1e-12);
        assert!(overall.paging.is_some() && overall.peak_burn_rate_5m.is_some());
        assert!(calm.paging.is_none() && down.peak_burn_rate_5m.is_none());
    }

    #[test]
    fn a_faulty_first_phase_is_no_baseline() {
        let phases = "  - name: down\n    duration: 10s\n    faults:\n      openai: [{ status: 503 }]";
        let plan = crate::test_support::plan(phases, "");
        let (peak, paging) = burn(&plan, requests(0, 10, Outcome::HttpError(503)));
        assert_eq!(paging.baseline, None);
        assert_eq!(paging.fill, Fill { good_per_s: 10.0, bad_per_s: 0.0 });
        // 100 bad of 3000 in the last 5 minutes: BR 3.33 at 99 %, not the phase's 100.
        assert!((peak.unwrap() - 100.0 / 3000.0 / 0.01).abs() < 1e-6, "{peak:?}");
    }

    #[test]
    fn the_burn_timeline_follows_the_outage_second_by_second() {
        let (plan, logical) = calm_then_down(10, 10, "", "");
        let records = crate::metrics::Records { logical, ..Default::default() };
        let timeline =
            burn_timeline(&plan, &Aggregate::from_records(plan.phase_ends(), &records).tallies(), 1);
        assert_eq!(timeline.len(), 20);
        let at = |second: usize| &timeline[second];
        assert_eq!((at(9).second, at(9).burn_rate_5m), (9, Some(0.0)), "a clean baseline burns nothing");
        // After the outage's first second: 10 bad of the 5 minutes' 3000 events, BR 1/3 at 99 %.
        assert!((at(10).burn_rate_5m.unwrap() - 10.0 / 3000.0 / 0.01).abs() < 1e-9, "{:?}", at(10));
        // Longer windows dilute the same 100 bad events more.
        let last = at(19);
        assert!(last.burn_rate_5m > last.burn_rate_1h && last.burn_rate_30m > last.burn_rate_6h, "{last:?}");
    }

    #[test]
    fn a_year_long_plan_stopped_after_3_s_is_analysed_over_those_3_s() {
        let phases = "  - { name: calm, duration: 1d }\n  - { name: rest, duration: 364d }";
        let plan = crate::test_support::plan(phases, "").stopped_at(std::time::Duration::from_secs(3));
        let records = crate::metrics::Records { logical: requests(0, 3, Outcome::Ok), ..Default::default() };
        let analysis = crate::analysis::analyze_records(&plan, &records);
        assert_eq!(analysis.burn_timeline.len(), 3, "one point a second that ran, not 31.5 million");
        assert_eq!((analysis.timeline_step_s, analysis.overall.duration_s), (1, 3.0));
        assert_eq!(analysis.phases[1].duration_s, 0.0, "the phase that never started lasted nothing");
        // The baseline fills the windows at its rate over the 3 s it ran: 10 good a second.
        let paging = analysis.overall.paging.expect("paging checks");
        assert_eq!(paging.fill, Fill { good_per_s: 10.0, bad_per_s: 0.0 });
    }

    #[test]
    fn a_long_outage_pages() {
        let (plan, logical) = calm_then_down(60, 600, "", "");
        let (_, paging) = burn(&plan, logical);
        // At 99 %, the hour burns at 14.4 after 518.4 s of outage.
        assert_eq!(paging.rules[0].first_page_at_s, Some(60 + 519));
        assert!(paging.paged);
    }
}
