//! Evaluates a scenario's expectations against the analysis and reaches the run's verdict.
//!
//! An expectation over too few logical requests is "inconclusive", never a pass: one error in
//! ten requests says little about a 99.9 % objective.

pub use crate::results::{Check, CheckStatus, Verdict, MIN_EVENTS};

pub mod early;

use crate::{analysis::Analysis, scenario::expect::Expectation};

/// Evaluates every expectation.
pub fn evaluate(expectations: &[Expectation], analysis: &Analysis) -> Vec<Check> {
    expectations
        .iter()
        .map(|expectation| {
            let figures = analysis.figures(expectation.phase);
            let observed = analysis.observed(expectation);
            let events = figures.logical_requests;
            let status = match observed {
                _ if events < MIN_EVENTS => CheckStatus::Inconclusive,
                None => CheckStatus::Inconclusive,
                Some(value) if expectation.op.holds(value, expectation.threshold) => CheckStatus::Pass,
                Some(_) => CheckStatus::Fail,
            };
            let phase = expectation.phase.map(|_| figures.name.clone());
            Check { expectation: expectation.clone(), phase, observed, events, status }
        })
        .collect()
}

/// How a run ended, as far as its verdict cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Its phases ran out (or `abort_on_fail` stopped it: its failed check says so).
    Ended,
    /// A halt condition stopped it.
    Halted,
    /// Ctrl-C stopped it.
    Interrupted,
}

/// The verdict for a set of checks: an interrupted run is interrupted, a halted one halted, one
/// that did not measure what it meant to (`run_valid` false: the generator fell behind, or the
/// target went around the interposers) is invalid; otherwise any failure fails, else any
/// inconclusive, else pass.
pub fn verdict(checks: &[Check], stop: Stop, run_valid: bool) -> Verdict {
    if stop == Stop::Interrupted {
        Verdict::Interrupted
    } else if stop == Stop::Halted {
        Verdict::Halted
    } else if !run_valid {
        Verdict::Invalid
    } else if checks.iter().any(|c| c.status == CheckStatus::Fail) {
        Verdict::Fail
    } else if checks.iter().any(|c| c.status == CheckStatus::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: CheckStatus) -> Check {
        let expectation = crate::scenario::expect::parse("availability > 99%", &[]).unwrap();
        Check { expectation, phase: None, observed: Some(1.0), events: 100, status }
    }

    #[test]
    fn burn_rate_and_budget_spent_are_checked_against_the_analysis() {
        let (plan, logical) = crate::test_support::calm_then_down(
            2,
            2,
            "",
            "  - burn_rate{phase=calm} < 1\n  - burn_rate{phase=down} < 14.4\n  \
             - budget_spent{phase=down} < 1%\n  - budget_spent < 0.001",
        );
        let analysis = crate::analysis::analyze_records(
            &plan,
            &crate::metrics::Records { logical, ..Default::default() },
        );
        let checks = evaluate(&plan.expectations, &analysis);
        let statuses: Vec<CheckStatus> = checks.iter().map(|c| c.status).collect();
        use CheckStatus::*;
        assert_eq!(statuses, [Pass, Fail, Pass, Fail], "{checks:?}");
        // At 99 %, a total outage burns at 100: 2 s of it spend 100 × 2 / 86 400 of a day's
        // budget; the whole run burns at 50 for 4 s, the same 0.23 %.
        let observed: Vec<f64> = checks.iter().map(|c| c.observed.unwrap()).collect();
        let expected = [0.0, 100.0, 200.0 / 86_400.0, 200.0 / 86_400.0];
        for (observed, expected) in observed.iter().zip(expected) {
            assert!((observed - expected).abs() < 1e-9, "{observed} vs {expected}");
        }
    }

    #[test]
    fn a_failure_outranks_an_inconclusive() {
        use CheckStatus::*;
        assert_eq!(verdict(&[check(Pass), check(Inconclusive)], Stop::Ended, true), Verdict::Inconclusive);
        assert_eq!(verdict(&[check(Inconclusive), check(Fail)], Stop::Ended, true), Verdict::Fail);
        assert_eq!(verdict(&[check(Pass)], Stop::Ended, true), Verdict::Pass);
        assert_eq!(verdict(&[check(Pass)], Stop::Interrupted, true), Verdict::Interrupted);
        assert_eq!(
            verdict(&[check(Fail)], Stop::Halted, true),
            Verdict::Halted,
            "a halt outranks the checks"
        );
        assert_eq!(
            verdict(&[check(Fail)], Stop::Ended, false),
            Verdict::Invalid,
            "a generator that fell behind voids the checks"
        );
    }
}
