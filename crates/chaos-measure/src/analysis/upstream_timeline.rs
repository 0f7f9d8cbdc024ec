//! The attempts each second, as `results.json` holds them for the report's charts: counts by
//! upstream (named), by how they ended, and by whether a fault answered; and what the second's
//! attempts cost. A fallback is visible here as one upstream's errors giving way to another's
//! successes; a retry storm as the attempts outgrowing the load.

pub use crate::results::{AttemptCount, AttemptsSecond};

use super::{cost, prices::PriceBook};
use crate::{metrics::attempt_timeline::AttemptSecond, scenario::Plan};

/// Every second with its attempts named and priced.
pub fn attempts_by_second(plan: &Plan, seconds: &[AttemptSecond]) -> Vec<AttemptsSecond> {
    let book = PriceBook { scenario: &plan.prices };
    let name = |index: usize| plan.upstreams.get(index).map_or_else(|| index.to_string(), |u| u.name.clone());
    seconds
        .iter()
        .zip(0u64..)
        .map(|(totals, second)| AttemptsSecond {
            second,
            attempts: totals
                .counts
                .iter()
                .map(|(kind, count)| AttemptCount {
                    upstream: name(kind.upstream),
                    status: kind.outcome.key(),
                    injected: kind.injected,
                    count: *count,
                })
                .collect(),
            cost_usd: cost::cost(&totals.billed, book).usd,
        })
        .collect()
}

/// The attempts of several runs side by side, in buckets of `step` seconds (1: second by
/// second): counts of the same upstream, status and cause add up, and so do costs (unknown if
/// one run's is). Every bucket up to the last is kept, empty ones included.
pub fn merge<'a>(runs: impl IntoIterator<Item = &'a [AttemptsSecond]>, step: u64) -> Vec<AttemptsSecond> {
    let step = step.max(1);
    let mut merged: Vec<AttemptsSecond> = Vec::new();
    for second in runs.into_iter().flatten() {
        let index = usize::try_from(second.second / step).unwrap_or(usize::MAX);
        if index >= merged.len() && index < usize::MAX {
            let next = merged.len() as u64;
            merged.extend((next..=second.second / step).map(|bucket| AttemptsSecond {
                second: bucket * step,
                attempts: Vec::new(),
                cost_usd: Some(0.0),
            }));
        }
        let Some(into) = merged.get_mut(index) else { continue };
        for count in &second.attempts {
            let same = |known: &&mut AttemptCount| {
                (&known.upstream, &known.status, known.injected)
                    == (&count.upstream, &count.status, count.injected)
            };
            match into.attempts.iter_mut().find(same) {
                Some(known) => known.count += count.count,
                None => into.attempts.push(count.clone()),
            }
        }
        into.cost_usd = into.cost_usd.zip(second.cost_usd).map(|(a, b)| a + b);
    }
    for second in &mut merged {
        second
            .attempts
            .sort_by(|a, b| (&a.upstream, &a.status, a.injected).cmp(&(&b.upstream, &b.status, b.injected)));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{attempt_timeline::AttemptTimeline, AttemptOutcome, AttemptRecord, TokenUsage};
    use std::time::Duration;

    #[test]
    fn seconds_name_their_upstreams_and_price_their_tokens() {
        let plan = crate::test_support::plan("  - { name: only, duration: 2s }", "");
        let mut timeline = AttemptTimeline::default();
        let mut ok = AttemptRecord::arrived(0, 0, Some(1), Duration::from_millis(1_200), Vec::new());
        ok.outcome = AttemptOutcome::Status(200);
        ok.model = Some("gpt-4o-mini".to_owned());
        ok.usage = Some(TokenUsage { input: 1_000_000, output: 0, estimated: false });
        timeline.add(&ok);
        let seconds = attempts_by_second(&plan, timeline.seconds());
        assert_eq!(seconds.len(), 2);
        assert_eq!((seconds[0].attempts.len(), seconds[0].cost_usd), (0, Some(0.0)));
        let upstream = plan.upstreams[0].name.clone();
        assert_eq!(
            seconds[1].attempts,
            [AttemptCount { upstream, status: "200".to_owned(), injected: false, count: 1 }]
        );
        // A million input tokens of gpt-4o-mini at the default table's price.
        let price = PriceBook { scenario: &plan.prices }.price("gpt-4o-mini").expect("a default price").0;
        assert_eq!(seconds[1].cost_usd, Some(price.input * 1e6));
        let merged = merge([seconds.as_slice(), &seconds[1..]], 1);
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[1].attempts.len(), merged[1].attempts[0].count), (1, 2));
        assert_eq!(merged[1].cost_usd, Some(2.0 * price.input * 1e6));
        let unknown = [AttemptsSecond { second: 0, attempts: Vec::new(), cost_usd: None }];
        assert_eq!(merge([seconds.as_slice(), &unknown], 1)[0].cost_usd, None);
    }
}
