//! `abort_on_fail`: watches a run's expectations on phases while it goes on and says when one
//! has failed for good, so the run can stop early with its verdict already known.
//!
//! An expectation on a phase is decided once every logical request meant to start in that phase
//! has ended: its figures cannot change after that. It is checked then, and only a failure stops
//! the run — an inconclusive one may still be joined by a failure elsewhere, and a pass changes
//! nothing. Expectations over the whole run are decided only at its end.

use std::time::Duration;

use super::{evaluate, Check, CheckStatus};
use crate::{
    analysis,
    metrics::{Recorder, RunClock},
    scenario::Plan,
};

/// How often a phase that is over is looked at until its last requests have ended.
const POLL: Duration = Duration::from_millis(100);
/// At least this long after a phase's end before its starts are all known: a start meant just
/// before the boundary may go out a little late.
const LATE_START: Duration = Duration::from_millis(100);

/// Resolves with the first failed expectation on a phase, checked phase by phase as each one's
/// requests have all ended; never resolves when none fails.
pub async fn first_failure(plan: &Plan, recorder: &Recorder, clock: RunClock) -> Check {
    for (index, phase) in plan.phases.iter().enumerate() {
        let expectations: Vec<_> =
            plan.expectations.iter().filter(|e| e.phase == Some(index)).cloned().collect();
        if expectations.is_empty() {
            continue;
        }
        tokio::time::sleep_until(clock.at(phase.end() + plan.load.max_lag.max(LATE_START))).await;
        let aggregate = loop {
            let aggregate = recorder.aggregate(plan.phase_ends());
            if aggregate.phase_ended(index) {
                break aggregate;
            }
            tokio::time::sleep(POLL).await;
        };
        // Over the plan as it has run so far: a phase that is over has its figures, and the
        // seconds to come, perhaps months of them, are nothing to size anything by.
        let so_far = plan.stopped_at(clock.elapsed());
        let checks = evaluate(&expectations, &analysis::analyze(&so_far, &aggregate));
        if let Some(failed) = checks.into_iter().find(|check| check.status == CheckStatus::Fail) {
            return failed;
        }
    }
    std::future::pending().await
}
