//! The run as it stands, for the progress line and the halt conditions: figures over trailing
//! windows of what has finished so far, computed once a second from the folded records.
//!
//! Windows, each ending with the last whole second:
//! - availability, error rate and latency/TTFT percentiles: requests that finished in the last
//!   [`RECENT_S`] seconds; requests per second: the last 10 s;
//! - burn rate: requests finished in the last 5 minutes (the fast paging rule's short window;
//!   no fill before the run, unlike the final figures, so it only counts what happened);
//! - retry amplification and fallback rate: attempts that arrived in the last [`RECENT_S`]
//!   seconds, against requests finished in them;
//! - cost per minute: attempts that arrived in the last 60 s; cost per request: that spend over
//!   the requests finished in the same minute; spend so far: every attempt.

use serde::{Deserialize, Serialize};

use super::{burn, cost, prices::PriceBook, Percentiles};
use crate::{
    metrics::{
        attempt_timeline::AttemptSecond,
        live::{COUNT_SECONDS, HISTOGRAM_SECONDS},
        Aggregate,
    },
    scenario::{
        expect::{LatencyBasis, Metric},
        Plan,
    },
};

/// The window of the recent figures, seconds: the one the live window keeps histograms for.
pub const RECENT_S: u64 = HISTOGRAM_SECONDS;
/// Fewer finished requests than this in the window, and a ratio or a percentile is not shown
/// (and cannot trip a halt): one early failure is not a 100 % error rate.
pub const MIN_LIVE_EVENTS: u64 = 10;

/// The run's figures at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveFigures {
    /// Seconds since the run started.
    pub elapsed_s: f64,
    /// Requests finished per second over the last 10 s.
    pub requests_per_s: f64,
    /// Requests finished in the last [`RECENT_S`] seconds.
    pub recent_requests: u64,
    pub availability: Option<f64>,
    pub error_rate: Option<f64>,
    /// Milliseconds, from the intended start.
    pub latency_ms: Option<Percentiles>,
    pub ttft_ms: Option<Percentiles>,
    /// Over the last 5 minutes.
    pub burn_rate_5m: Option<f64>,
    pub retry_amplification: Option<f64>,
    pub fallback_rate: Option<f64>,
    /// US dollars per minute, over the last 60 s.
    pub cost_per_minute_usd: Option<f64>,
    pub cost_per_request_usd: Option<f64>,
    /// US dollars spent since the run started.
    pub spent_usd: Option<f64>,
}

impl LiveFigures {
    /// The live value of a metric; `None` for one known only once requests have settled (budget
    /// spent, cost multiplier, Retry-After compliance, duplicates: [`Metric::watchable_live`] is false
    /// for those) or nothing yet to compute it from.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Availability => self.availability,
            Metric::ErrorRate => self.error_rate,
            Metric::BurnRate => self.burn_rate_5m,
            Metric::RetryAmplification => self.retry_amplification,
            Metric::FallbackRate => self.fallback_rate,
            Metric::CostPerMinute => self.cost_per_minute_usd,
            Metric::CostPerRequest => self.cost_per_request_usd,
            Metric::Latency { quantile, basis } => {
                let percentiles = match basis {
                    LatencyBasis::Latency => self.latency_ms,
                    LatencyBasis::Ttft => self.ttft_ms,
                    _ => None,
                }?;
                Some(percentiles.at(quantile) / 1000.0)
            }
            Metric::BudgetSpent
            | Metric::CostMultiplier
            | Metric::RetryAfterCompliance
            | Metric::RetryAfterHonoured
            | Metric::DuplicateRate
            | Metric::TimeToFailover
            | Metric::TimeToRecover => None,
        }
    }
}

/// The figures of the run folded into `aggregate`, `elapsed` into it.
pub fn live_figures(plan: &Plan, aggregate: &Aggregate, elapsed: std::time::Duration) -> LiveFigures {
    let now_s = elapsed.as_secs();
    let recent = aggregate.live.trailing(now_s, RECENT_S);
    let (latency, ttft) = aggregate.live.histograms(now_s);
    let enough = recent.finished >= MIN_LIVE_EVENTS;
    let ratio = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let last_ten = aggregate.live.trailing(now_s, 10);
    let five_minutes = aggregate.live.trailing(now_s, COUNT_SECONDS);
    let book = PriceBook { scenario: &plan.prices };
    let attempts = aggregate.attempt_timeline.seconds();
    let recent_attempts = trailing_attempts(attempts, now_s, RECENT_S);
    let minute = trailing_attempts(attempts, now_s, 60);
    let minute_cost = cost::cost(&minute.iter().map(|second| &second.billed).collect(), book).usd;
    let finished_in_minute = aggregate.live.trailing(now_s, 60).finished;
    let attempt_count: u64 = recent_attempts.iter().flat_map(|s| s.counts.values()).sum();
    let primary = plan.primary_upstream();
    let (served, by_fallback) = served(recent_attempts, primary);
    LiveFigures {
        elapsed_s: elapsed.as_secs_f64(),
        requests_per_s: last_ten.finished as f64 / 10f64.min(now_s.max(1) as f64),
        recent_requests: recent.finished,
        availability: ratio(recent.ok, recent.finished).filter(|_| enough),
        error_rate: ratio(recent.finished - recent.ok, recent.finished).filter(|_| enough),
        latency_ms: Percentiles::of(&latency).filter(|_| enough),
        ttft_ms: Percentiles::of(&ttft).filter(|_| enough),
        burn_rate_5m: (five_minutes.finished >= MIN_LIVE_EVENTS)
            .then(|| {
                let tally = burn::Tally { good: five_minutes.slo_good, bad: five_minutes.slo_bad };
                burn::burn_rate(tally, plan.slo.availability)
            })
            .flatten(),
        retry_amplification: ratio(attempt_count, recent.finished).filter(|_| enough && attempt_count > 0),
        fallback_rate: ratio(by_fallback, served).filter(|_| enough),
        cost_per_minute_usd: minute_cost.map(|usd| usd * 60.0 / 60f64.min(now_s.max(1) as f64)),
        cost_per_request_usd: minute_cost.zip(ratio(1, finished_in_minute)).map(|(usd, per)| usd * per),
        spent_usd: spend(plan, aggregate).usd,
    }
}

/// What every attempt folded into `aggregate` cost: the spend guard's figure (`max_spend`).
pub fn spend(plan: &Plan, aggregate: &Aggregate) -> cost::Cost {
    // Every attempt's tokens are in its phase's totals too (or, uncorrelated, beside them): a
    // few phases to add, not every second.
    cost::cost(&aggregate.all_billed(), PriceBook { scenario: &plan.prices })
}

/// The attempt seconds `now_s - seconds .. now_s`.
fn trailing_attempts(seconds: &[AttemptSecond], now_s: u64, window: u64) -> &[AttemptSecond] {
    let end = usize::try_from(now_s).unwrap_or(usize::MAX).min(seconds.len());
    let start = end.saturating_sub(usize::try_from(window).unwrap_or(usize::MAX));
    &seconds[start..end]
}

/// Successful attempts, and those of them served by an upstream other than `primary`.
fn served(seconds: &[AttemptSecond], primary: usize) -> (u64, u64) {
    let mut served = (0, 0);
    for (kind, count) in seconds.iter().flat_map(|s| &s.counts) {
        if matches!(kind.outcome, crate::metrics::AttemptOutcome::Status(200..=299)) {
            served.0 += count;
            if kind.upstream != primary {
                served.1 += count;
            }
        }
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{metrics::Outcome, test_support};
    use std::time::Duration;

    #[test]
    fn recent_figures_follow_the_last_thirty_seconds() {
        let (plan, aggregate) = test_support::calm_then_down_folded(40, 20);
        // At 50 s: the last 30 s finished 100 good (30 s – 40 s) and 100 503s (40 s – 50 s).
        let live = live_figures(&plan, &aggregate, Duration::from_millis(50_500));
        assert_eq!(live.recent_requests, 300);
        assert!((live.error_rate.unwrap() - 100.0 / 300.0).abs() < 1e-9, "{live:?}");
        assert_eq!(live.requests_per_s, 10.0);
        assert_eq!(live.retry_amplification, Some(1.0));
        // The last 5 minutes hold the whole run so far: 100 bad of 500, BR 20 at 99 %.
        assert!((live.burn_rate_5m.unwrap() - 20.0).abs() < 1e-9, "{live:?}");
        // Spent so far: the 400 successes, billed $0.00021 each (the 503s billed nothing).
        assert!((live.spent_usd.unwrap() - 400.0 * 0.00021).abs() < 1e-9, "{live:?}");
        assert_eq!(live.value(Metric::ErrorRate), live.error_rate);
        assert_eq!(live.value(Metric::CostMultiplier), None);
    }

    #[test]
    fn too_few_requests_show_no_ratio() {
        let (plan, mut logical) = test_support::calm_then_down(1, 1, "", "");
        logical.truncate(3);
        logical[0].outcome = Outcome::Timeout;
        let records = crate::metrics::Records { logical, ..Default::default() };
        let aggregate = Aggregate::from_records(plan.phase_ends(), &records);
        let live = live_figures(&plan, &aggregate, Duration::from_secs(2));
        assert_eq!((live.recent_requests, live.error_rate, live.burn_rate_5m), (3, None, None));
    }
}
