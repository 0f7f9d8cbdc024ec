//! Figures per key of the target's key pool, over the whole run: requests, successes and
//! availability, 429s, latency percentiles. Keys are named as the pool names them (variable or
//! file line) with their fingerprint; a key the records name but the pool lacks (a merge of
//! runs with different pools) is named by its index.

use crate::{
    metrics::{Outcome, Percentiles, PhaseTotals},
    results::KeyFigures,
    scenario::key_pool::KeyPool,
};

/// One row per key that presented any request, in the pool's order.
pub fn key_figures(pool: Option<&KeyPool>, overall: &PhaseTotals) -> Vec<KeyFigures> {
    overall
        .keys
        .iter()
        .map(|(index, totals)| {
            let known = pool.and_then(|pool| pool.keys.get(*index));
            let successes = totals.count(Outcome::Ok);
            let requests = totals.logical_requests;
            KeyFigures {
                name: known.map_or_else(|| format!("key-{}", index + 1), |key| key.name.clone()),
                fingerprint: known.map(|key| key.fingerprint.clone()).unwrap_or_default(),
                logical_requests: requests,
                successes,
                failures: requests - successes,
                availability: (requests > 0).then(|| successes as f64 / requests as f64),
                http_429: totals.count(Outcome::HttpError(429)),
                latency_ms: Percentiles::of(&totals.latency),
                outcomes: totals.outcomes.iter().map(|(outcome, count)| (outcome.key(), *count)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{Aggregate, LogicalRecord, Records};

    #[test]
    fn each_key_gets_its_own_requests_and_together_they_make_the_whole() {
        let logical: Vec<LogicalRecord> = (0..10)
            .map(|id| {
                let at = Duration::from_millis(id * 100);
                let outcome = if id % 2 == 1 { Outcome::HttpError(429) } else { Outcome::Ok };
                let latency = Duration::from_millis(10 * (1 + id % 2) * 10);
                LogicalRecord {
                    key: Some((id % 2) as usize),
                    ..crate::test_support::request(id, at, at + latency, outcome)
                }
            })
            .collect();
        let aggregate =
            Aggregate::from_records(vec![Duration::from_secs(1)], &Records { logical, ..Default::default() });
        let rows = key_figures(None, &aggregate.tallies().overall());
        assert_eq!(rows.len(), 2);
        let [even, odd] = &rows[..] else { panic!("two keys") };
        assert_eq!(
            (even.name.as_str(), even.logical_requests, even.successes, even.http_429),
            ("key-1", 5, 5, 0)
        );
        assert_eq!(
            (odd.name.as_str(), odd.logical_requests, odd.availability, odd.http_429),
            ("key-2", 5, Some(0.0), 5)
        );
        assert_eq!(even.latency_ms.map(|l| l.p50.round()), Some(100.0));
        assert_eq!(odd.latency_ms.map(|l| l.p99.round()), Some(200.0));
    }
}
