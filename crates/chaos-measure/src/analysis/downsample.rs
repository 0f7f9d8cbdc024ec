//! A long run's timelines, bounded: past [`MOST_POINTS`] seconds, the per-second timelines of
//! `results.json` (`timeline`, `attempt_timeline`, `burn_timeline`) hold one point per bucket
//! of `k` seconds instead ([`step_for`]; `timeline_step_s` says which `k`), so a year-long plan
//! writes a few thousand points per timeline, not thirty million.
//!
//! Each point's `second` is its bucket's first second, and each field keeps its meaning:
//!
//! - counts (requests finished, successes, outcomes, attempts by kind, cost) are the bucket's
//!   sums, exact;
//! - latency and TTFT percentiles are the highest of the bucket's seconds' at each quantile
//!   (only each second's percentiles were kept): an upper bound of the bucket's own, exact
//!   for the maximum;
//! - burn rates are the highest any second of the bucket ended with, so a burn that would page
//!   shows however short it was.
//!
//! Steps come from one chain, each a multiple of the one before (1 s, 5 s, 10 s, 30 s, 1 min,
//! 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 1 day, then doubling), so a timeline at one step
//! can be bucketed again at any later one (`chaos merge` of runs of different lengths), and a
//! bucket reads as a round length of time.
//!
//! The figures themselves (per phase, the run's burn rates and paging checks, time to fail
//! over and recover) are computed from the per-second tallies before any downsampling.

use crate::{
    metrics::timeline::{self, Second},
    results::{AttemptsSecond, BurnSecond},
};

/// The most points a timeline keeps: an hour of seconds, so a game day of up to an hour keeps
/// every second, and about twice the pixels a chart spans on a wide screen, so a longer run's
/// chart loses nothing a reader could see. 3,600 points of the largest timeline, the finished
/// requests' with three sets of percentiles, are about 1 MB of JSON.
pub const MOST_POINTS: u64 = 3_600;

/// The bucket lengths a timeline may use, seconds, each a multiple of the one before.
const STEPS: [u64; 13] = [1, 5, 10, 30, 60, 300, 600, 1_800, 3_600, 10_800, 21_600, 43_200, 86_400];

/// The shortest step that keeps a timeline of `seconds` seconds to [`MOST_POINTS`] points.
pub fn step_for(seconds: u64) -> u64 {
    let fits = |step: u64| seconds.div_ceil(step) <= MOST_POINTS;
    let mut step = STEPS.into_iter().find(|step| fits(*step)).unwrap_or(86_400);
    while !fits(step) {
        step = step.saturating_mul(2);
    }
    step
}

/// The first second of the bucket of `step` seconds that holds `second`.
fn bucket(second: u64, step: u64) -> u64 {
    second - second % step.max(1)
}

/// Finished requests in buckets of `step` seconds: counts summed, percentiles bounded from
/// above ([`timeline::merge`]).
pub fn timeline(seconds: &[Second], step: u64) -> Vec<Second> {
    if step <= 1 {
        return seconds.to_vec();
    }
    let moved: Vec<Second> =
        seconds.iter().map(|s| Second { second: bucket(s.second, step), ..s.clone() }).collect();
    timeline::merge([moved.as_slice()])
}

/// Attempts in buckets of `step` seconds: counts and costs summed
/// ([`super::upstream_timeline::merge`]).
pub fn attempts(seconds: &[AttemptsSecond], step: u64) -> Vec<AttemptsSecond> {
    if step <= 1 {
        return seconds.to_vec();
    }
    super::upstream_timeline::merge([seconds], step)
}

/// Rolling burn rates in buckets of `step` seconds: the highest each window reached at the
/// end of any second of the bucket.
pub fn burn(seconds: impl IntoIterator<Item = BurnSecond>, step: u64) -> Vec<BurnSecond> {
    let mut buckets: Vec<BurnSecond> = Vec::new();
    for second in seconds {
        let start = bucket(second.second, step);
        match buckets.last_mut().filter(|last| last.second == start) {
            Some(last) => {
                last.burn_rate_5m = higher(last.burn_rate_5m, second.burn_rate_5m);
                last.burn_rate_1h = higher(last.burn_rate_1h, second.burn_rate_1h);
                last.burn_rate_30m = higher(last.burn_rate_30m, second.burn_rate_30m);
                last.burn_rate_6h = higher(last.burn_rate_6h, second.burn_rate_6h);
            }
            None => buckets.push(BurnSecond { second: start, ..second }),
        }
    }
    buckets
}

fn higher(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{metrics::Percentiles, results::AttemptCount};

    #[test]
    fn an_hour_keeps_every_second_and_a_year_keeps_three_hour_buckets() {
        assert_eq!(step_for(0), 1);
        assert_eq!(step_for(3_600), 1, "an hour-long game day keeps its seconds");
        assert_eq!(step_for(3_601), 5);
        assert_eq!(step_for(30 * 86_400), 1_800);
        assert_eq!(step_for(365 * 86_400), 10_800, "2,920 points for a year");
        assert_eq!(step_for(10 * 365 * 86_400), 172_800, "past a day, the steps double");
        for seconds in [1, 3_599, 86_400, 365 * 86_400, u64::MAX / 2] {
            assert!(seconds.div_ceil(step_for(seconds)) <= MOST_POINTS, "{seconds} s");
        }
        assert!(STEPS.windows(2).all(|pair| pair[1] % pair[0] == 0), "each step divides the next");
    }

    fn finished(second: u64, ok: u64, failed: u64, p99: f64) -> Second {
        let percentiles = Percentiles { p50: p99 / 2.0, p90: p99, p99, p999: p99, max: p99 * 2.0 };
        Second {
            second,
            finished: ok + failed,
            ok,
            outcomes: BTreeMap::from([("ok".to_owned(), ok), ("http_503".to_owned(), failed)]),
            latency_ms: Some(percentiles),
            service_time_ms: None,
            ttft_ms: None,
        }
    }

    #[test]
    fn finished_requests_sum_per_bucket_and_keep_the_highest_percentiles() {
        let seconds: Vec<Second> = (0..25).map(|s| finished(s, 10, s % 3, 100.0 + s as f64)).collect();
        let buckets = timeline(&seconds, 10);
        assert_eq!(buckets.iter().map(|b| b.second).collect::<Vec<_>>(), [0, 10, 20]);
        let sum = |pick: fn(&Second) -> u64, of: &[Second]| of.iter().map(pick).sum::<u64>();
        assert_eq!(sum(|s| s.finished, &buckets), sum(|s| s.finished, &seconds), "no request lost");
        assert_eq!(sum(|s| s.ok, &buckets), 250);
        assert_eq!(buckets[2].outcomes["http_503"], (20..25).map(|s| s % 3).sum::<u64>());
        let last = buckets[1].latency_ms.expect("latencies");
        assert_eq!((last.p99, last.max), (119.0, 238.0), "the bucket's highest second, max exact");
        assert_eq!(timeline(&seconds, 1), seconds, "a step of one changes nothing");
    }

    fn attempts_at(second: u64, count: u64) -> AttemptsSecond {
        let attempt =
            AttemptCount { upstream: "openai".into(), status: "200".into(), injected: false, count };
        AttemptsSecond { second, attempts: vec![attempt], cost_usd: Some(0.5) }
    }

    #[test]
    fn attempts_and_costs_sum_per_bucket_with_empty_buckets_kept() {
        let seconds = [attempts_at(0, 3), attempts_at(4, 2), attempts_at(17, 1)];
        let buckets = attempts(&seconds, 5);
        assert_eq!(buckets.iter().map(|b| b.second).collect::<Vec<_>>(), [0, 5, 10, 15]);
        assert_eq!(buckets[0].attempts[0].count, 5);
        assert_eq!(buckets[0].cost_usd, Some(1.0));
        assert!(buckets[1].attempts.is_empty(), "an empty bucket keeps the chart without a gap");
        assert_eq!(buckets[3].attempts[0].count, 1);
    }

    #[test]
    fn a_two_hour_run_keeps_its_timelines_to_3600_points_and_every_request() {
        let (plan, logical) = crate::test_support::calm_then_down(3_600, 3_600, "", "");
        let records = crate::metrics::Records { logical, ..Default::default() };
        let analysis = crate::analysis::analyze_records(&plan, &records);
        assert_eq!(analysis.timeline_step_s, 5, "7,200 s in buckets of 5 s");
        assert_eq!((analysis.timeline.len(), analysis.burn_timeline.len()), (1_440, 1_440));
        let finished: u64 = analysis.timeline.iter().map(|second| second.finished).sum();
        assert_eq!(finished, 72_000, "every request in some bucket");
        assert_eq!(analysis.timeline[719].ok, 50, "10 a second, 5 seconds a bucket");
        assert_eq!(analysis.timeline[720].outcomes["http_503"], 50);
        // The figures come from the seconds, not the buckets: the run paged 519 s into the outage.
        let paging = analysis.overall.paging.expect("paging checks");
        assert_eq!(paging.rules[0].first_page_at_s, Some(3_600 + 519));
        let burn = &analysis.burn_timeline;
        assert!(burn.iter().all(|point| point.second % 5 == 0));
        assert!(burn[1_439].burn_rate_5m > Some(99.0), "the outage's last bucket burns at 100");
    }

    #[test]
    fn burn_rates_keep_the_highest_of_each_bucket() {
        let at = |second, rate| BurnSecond {
            second,
            burn_rate_5m: rate,
            burn_rate_1h: rate.map(|r: f64| r / 12.0),
            burn_rate_30m: None,
            burn_rate_6h: None,
        };
        let seconds = [at(0, Some(1.0)), at(1, Some(20.0)), at(2, None), at(3, Some(2.0)), at(4, None)];
        let buckets = burn(seconds, 3);
        assert_eq!(buckets.len(), 2);
        assert_eq!((buckets[0].second, buckets[0].burn_rate_5m), (0, Some(20.0)), "a short peak shows");
        assert_eq!(buckets[0].burn_rate_1h, Some(20.0 / 12.0));
        assert_eq!((buckets[1].second, buckets[1].burn_rate_5m), (3, Some(2.0)));
    }
}
