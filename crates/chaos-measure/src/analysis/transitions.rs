//! Time to fail over and time to recover, per phase: how long the target took to move its
//! traffic off a faulted primary upstream, and to bring it back once the faults ended.
//!
//! - **Time to fail over** is measured in a phase that injects at the primary (a fault, or its
//!   zone going dark): from the phase's start to the arrival at the interposer of the first
//!   attempt that an upstream other than the primary answered with a 2xx of its own (a fault's
//!   answer does not count), among the attempts of the requests meant to start in the phase —
//!   joined by correlation id, so a fallback that lands after the phase ended still counts
//!   for it, as it does in its `fallback_rate` (an attempt without an id counts in the phase it
//!   arrived in). Microsecond resolution, from the earliest such arrival each phase keeps per
//!   upstream. A phase in which that never happened did not fail over (`failed_over: false`);
//!   the primary recovering on its own is not a failover, it is what the next phase's time to
//!   recover measures. How long each request took to move is another figure, `failover_ms`
//!   (`crate::metrics::gaps`).
//! - **Time to recover** comes from the per-second counts the run already keeps, so its
//!   resolution is one second, and reads as an upper bound: the end of the first second in
//!   which the thing was seen, minus the phase's start. It is measured in a phase that injects nothing at the primary and follows
//!   one that did: until the end of the first second *from which on* every second of the phase
//!   is back at the baseline on both counts: the share of successful requests among those meant
//!   to start in it (SLO events: an unfinished request is neither), and the primary's share of
//!   the upstreams' own 2xx answers. "Back" allows for chance: a second may fall short of the
//!   baseline's ratio `p` by up to three binomial standard errors, `3·√(p(1−p)/n)` for its `n`
//!   events, so a baseline at 100 % allows no shortfall at all. A second with no events neither
//!   starts nor breaks a recovered stretch.
//!
//! The baseline is the first phase when it injects nothing, as for the SLO fill (`slo.rs`);
//! otherwise the yardstick is the ideal, every request succeeding and every success from the
//! primary.

pub use crate::results::Transitions;

use std::{ops::Range, time::Duration};

use super::upstream_timeline::AttemptsSecond;
use crate::{
    metrics::{PhaseTotals, SecondTotals, Tallies},
    scenario::Plan,
};

/// How many binomial standard errors below the baseline a recovered second may fall.
const TOLERANCE_SIGMAS: f64 = 3.0;

/// One second of the run as the transitions see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Second {
    /// 2xx answers of the primary itself to attempts that arrived in it.
    pub primary_ok: u64,
    /// The same from every other upstream.
    pub other_ok: u64,
    /// Logical requests meant to start in it that succeeded.
    pub good: u64,
    /// Those that ended otherwise (unfinished ones excluded).
    pub bad: u64,
}

/// The run second by second: attempts by arrival, requests by intended start. Attempts count
/// in the second they name: in a merge of downsampled runs, their bucket's first.
pub fn seconds(primary: &str, attempts: &[AttemptsSecond], slo: &[SecondTotals]) -> Vec<Second> {
    let last_attempt = attempts.iter().map(|second| second.second as usize + 1).max().unwrap_or(0);
    let mut seconds = vec![Second::default(); last_attempt.max(slo.len())];
    for (second, totals) in seconds.iter_mut().zip(slo) {
        second.good = totals.ok;
        second.bad = totals.failed;
    }
    for attempts in attempts {
        let Some(second) = seconds.get_mut(attempts.second as usize) else { continue };
        for count in attempts.attempts.iter().filter(|count| !count.injected && is_success(&count.status)) {
            match count.upstream == primary {
                true => second.primary_ok += count.count,
                false => second.other_ok += count.count,
            }
        }
    }
    seconds
}

fn is_success(status: &str) -> bool {
    status.parse::<u16>().is_ok_and(|status| (200..300).contains(&status))
}

/// What a recovered second is held to: the baseline's ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Yardstick {
    /// Successful requests ÷ requests with an ending (SLO events).
    pub success_ratio: f64,
    /// The primary's share of the upstreams' own 2xx answers.
    pub primary_share: f64,
}

impl Yardstick {
    /// The ideal: every request succeeds, every success comes from the primary.
    pub const IDEAL: Yardstick = Yardstick { success_ratio: 1.0, primary_share: 1.0 };

    /// The ratios over a window's seconds (the ideal's where the window has no events).
    fn of(seconds: &[Second], window: &Window) -> Yardstick {
        let mut total = Second::default();
        for second in window.seconds().filter_map(|s| seconds.get(s)) {
            total.primary_ok += second.primary_ok;
            total.other_ok += second.other_ok;
            total.good += second.good;
            total.bad += second.bad;
        }
        Yardstick {
            success_ratio: ratio(total.good, total.good + total.bad).unwrap_or(1.0),
            primary_share: ratio(total.primary_ok, total.primary_ok + total.other_ok).unwrap_or(1.0),
        }
    }

    /// Whether a second is back at the yardstick; `None` when it has no events to say.
    fn holds(&self, second: &Second) -> Option<bool> {
        let back = |part: u64, whole: u64, baseline: f64| {
            ratio(part, whole).map(|observed| {
                let error = (baseline * (1.0 - baseline) / whole as f64).sqrt();
                observed >= baseline - TOLERANCE_SIGMAS * error - 1e-12
            })
        };
        let requests = back(second.good, second.good + second.bad, self.success_ratio);
        let share = back(second.primary_ok, second.primary_ok + second.other_ok, self.primary_share);
        match (requests, share) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(true) && b.unwrap_or(true)),
        }
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A phase's window on the run clock, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    start_s: f64,
    end_s: f64,
}

impl Window {
    /// The run's whole seconds that overlap the window.
    fn seconds(&self) -> Range<usize> {
        self.start_s.floor() as usize..self.end_s.ceil() as usize
    }

    /// From the window's start to the end of second `second` (at most the window's end).
    fn until_end_of(&self, second: usize) -> f64 {
        ((second + 1) as f64).min(self.end_s) - self.start_s
    }
}

/// The transitions of every phase of `plan`, from the run's `seconds` and its phases' tallies.
pub fn per_phase(plan: &Plan, seconds: &[Second], tallies: &Tallies) -> Vec<Transitions> {
    let primary = plan.primary_upstream();
    let window = |phase: &crate::scenario::plan::Phase| Window {
        start_s: phase.start.as_secs_f64(),
        end_s: phase.end().as_secs_f64(),
    };
    let yardstick = match plan.phases.first().filter(|phase| phase.is_clean()) {
        Some(baseline) => Yardstick::of(seconds, &window(baseline)),
        None => Yardstick::IDEAL,
    };
    let faulted: Vec<bool> = plan.phases.iter().map(|phase| phase.injects_at(primary)).collect();
    plan.phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let mut transitions = Transitions::default();
            if faulted[index] {
                transitions.time_to_failover_s =
                    time_to_failover(tallies.phases.get(index), primary, phase.start);
                transitions.failed_over = Some(transitions.time_to_failover_s.is_some());
            } else if index > 0 && faulted[index - 1] {
                transitions.time_to_recover_s = time_to_recover(seconds, &window(phase), yardstick);
                transitions.recovered = Some(transitions.time_to_recover_s.is_some());
            }
            transitions
        })
        .collect()
}

/// From `start` to the first own 2xx of an upstream other than `primary` in the phase's tallies.
fn time_to_failover(totals: Option<&PhaseTotals>, primary: usize, start: Duration) -> Option<f64> {
    let first_us = totals?
        .first_served_us
        .iter()
        .filter(|(upstream, _)| **upstream != primary)
        .map(|(_, at)| *at)
        .min()?;
    Some((Duration::from_micros(first_us).saturating_sub(start)).as_secs_f64())
}

fn time_to_recover(seconds: &[Second], window: &Window, yardstick: Yardstick) -> Option<f64> {
    let mut recovered_from = None;
    for index in window.seconds() {
        match seconds.get(index).and_then(|second| yardstick.holds(second)) {
            Some(true) => {
                recovered_from.get_or_insert(index);
            }
            Some(false) => recovered_from = None,
            None => {}
        }
    }
    recovered_from.map(|second| window.until_end_of(second))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(primary_ok: u64, other_ok: u64, good: u64, bad: u64) -> Second {
        Second { primary_ok, other_ok, good, bad }
    }

    const WINDOW: Window = Window { start_s: 10.0, end_s: 15.0 };

    fn run(middle: &[Second]) -> Vec<Second> {
        let mut seconds = vec![second(10, 0, 10, 0); 10];
        seconds.extend_from_slice(middle);
        seconds
    }

    #[test]
    fn failover_is_the_first_arrival_another_upstream_served_to_the_microsecond() {
        let mut totals = PhaseTotals::default();
        let start = Duration::from_secs(10);
        assert_eq!(time_to_failover(Some(&totals), 0, start), None, "nobody served");
        totals.first_served_us.insert(0, 10_000_100);
        assert_eq!(time_to_failover(Some(&totals), 0, start), None, "the primary is no failover");
        totals.first_served_us.insert(2, 10_003_250);
        totals.first_served_us.insert(1, 10_004_000);
        assert_eq!(time_to_failover(Some(&totals), 0, start), Some(0.003_25), "3.25 ms, not 1 s");
        totals.first_served_us.insert(1, 12_500_000);
        totals.first_served_us.remove(&2);
        assert_eq!(time_to_failover(Some(&totals), 0, start), Some(2.5));
    }

    #[test]
    fn recovery_needs_every_later_second_back_at_the_baseline() {
        let ideal = Yardstick::IDEAL;
        // Back in the second second, a relapse in the fourth, back for good in the fifth.
        let relapse = run(&[
            second(5, 5, 10, 0),
            second(10, 0, 10, 0),
            second(10, 0, 10, 0),
            second(10, 0, 9, 1),
            second(10, 0, 10, 0),
        ]);
        assert_eq!(time_to_recover(&relapse, &WINDOW, ideal), Some(5.0));
        // A quiet second neither starts nor breaks a recovered stretch.
        let quiet =
            run(&[second(0, 3, 3, 0), second(10, 0, 10, 0), second(0, 0, 0, 0), second(10, 0, 10, 0)]);
        assert_eq!(time_to_recover(&quiet, &WINDOW, ideal), Some(2.0));
        let never = run(&[second(10, 0, 10, 0), second(0, 0, 0, 10)]);
        assert_eq!(time_to_recover(&never, &WINDOW, ideal), None);
    }

    #[test]
    fn a_noisy_baseline_allows_three_standard_errors() {
        let baseline = Yardstick { success_ratio: 0.9, primary_share: 1.0 };
        // 100 events at p = 0.9: σ = 0.03, so 81 % still holds and 80 % does not.
        assert_eq!(baseline.holds(&second(81, 0, 81, 19)), Some(true));
        assert_eq!(baseline.holds(&second(80, 0, 80, 20)), Some(false));
        assert_eq!(baseline.holds(&second(81, 1, 81, 19)), Some(false), "a 100 % share allows nothing");
        assert_eq!(baseline.holds(&Second::default()), None);
    }

    #[test]
    fn phases_say_which_figure_applies() {
        let phases = "  - { name: calm, duration: 2s }\n  - name: down\n    duration: 2s\n    faults:\n      \
                      openai: [{ status: 503 }]\n  - { name: after, duration: 2s }\n  - { name: later, duration: 1s }";
        let plan = crate::test_support::plan(phases, "");
        let seconds = vec![
            second(10, 0, 10, 0),
            second(10, 0, 10, 0),
            second(0, 0, 0, 10),
            second(0, 0, 0, 10),
            second(10, 0, 10, 0),
            second(10, 0, 10, 0),
        ];
        let tallies = Tallies { phases: vec![PhaseTotals::default(); 4], slo_seconds: Vec::new() };
        let figures = per_phase(&plan, &seconds, &tallies);
        let [calm, down, after, later] = &figures[..] else { panic!("four phases") };
        assert_eq!((*calm, *later), (Transitions::default(), Transitions::default()));
        assert_eq!((down.failed_over, down.time_to_failover()), (Some(false), Some(f64::INFINITY)));
        assert_eq!((after.recovered, after.time_to_recover_s), (Some(true), Some(1.0)));
        assert_eq!(after.time_to_failover(), None, "no failover in a phase without faults");
    }
}
