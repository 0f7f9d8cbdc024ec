//! Watching a run while it goes on. Once a second, just after each whole second of the run
//! clock, the live figures ([`crate::analysis::live`]) are computed from the folded records;
//! they feed the progress display ([`progress`]), the scenario's halt conditions and its spend
//! guard ([`spend`]). The first condition that holds resolves [`watch`] with a [`Halt`], and
//! the runner then removes every fault at once and ends the run as halted.

pub use crate::results::Halt;

pub mod progress;
pub mod spend;

use std::time::Duration;

use crate::{
    analysis::live::{self, live_figures, LiveFigures},
    ops::state::RunState,
    scenario::expect::Expectation,
};

use progress::Progress;

/// How long after a whole second the figures are looked at, so the answers of that second's
/// last moments are in.
const SETTLE: Duration = Duration::from_millis(50);

/// The first halt condition that `live` satisfies, with its observed value.
pub fn breached<'a>(conditions: &'a [Expectation], live: &LiveFigures) -> Option<(&'a Expectation, f64)> {
    conditions.iter().find_map(|condition| {
        let observed = live.value(condition.metric)?;
        condition.op.holds(observed, condition.threshold).then_some((condition, observed))
    })
}

/// Shows progress once a second, leaves the figures in `state` for the operations servers, and
/// resolves when a halt condition holds; never resolves when none does. The plan is read from
/// `state` each time, so a skipped phase shows at once.
pub async fn watch(state: &RunState, mut progress: Progress) -> Halt {
    let (recorder, clock) = (&state.recorder, state.clock);
    let mut second = 1u64;
    loop {
        tokio::time::sleep_until(clock.at(Duration::from_secs(second) + SETTLE)).await;
        second = clock.elapsed().as_secs().max(second) + 1;
        let elapsed = clock.elapsed();
        let plan = state.plan();
        let Some((live, spent)) = recorder.with_aggregate(|aggregate| {
            let spent = plan.max_spend.map(|limit| (limit, live::spend(&plan, aggregate)));
            (live_figures(&plan, aggregate, elapsed), spent)
        }) else {
            continue;
        };
        progress.show(&plan, &live);
        state.set_figures(live.clone());
        let guarded = spent.and_then(|(limit, spent)| spend::breached(limit, &spent));
        let halted =
            breached(&plan.halts, &live).map(|(condition, observed)| (condition.text.clone(), observed));
        if let Some((condition, observed)) = halted.or(guarded) {
            let phase = plan.phases[plan.phase_at(elapsed)].name.clone();
            let halt = Halt { condition, observed, at_s: live.elapsed_s, phase, by: None };
            progress.halted(&halt);
            return halt;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;

    #[test]
    fn the_first_condition_that_holds_is_the_breach() {
        let (plan, aggregate) = test_support::calm_then_down_folded(40, 20);
        let live = live_figures(&plan, &aggregate, Duration::from_secs(50));
        let parse = |text: &str| crate::scenario::expect::parse(text, &[]).unwrap();
        // A third of the last 30 s failed: 33 % errors, availability 67 %.
        let conditions = [parse("error_rate > 50%"), parse("availability < 70%"), parse("error_rate > 10%")];
        let (condition, observed) = breached(&conditions, &live).expect("a breach");
        assert_eq!(condition.text, "availability < 70%");
        assert!((observed - 2.0 / 3.0).abs() < 1e-9, "{observed}");
        assert!(breached(&conditions[..1], &live).is_none());
        let clean = live_figures(&plan, &aggregate, Duration::from_secs(30));
        assert!(breached(&conditions, &clean).is_none(), "{clean:?}");
    }
}
