//! Turns records into figures per phase and for the whole run: requests, outcomes, attempts,
//! retry amplification, availability and latency percentiles, and SLO burn: the burn rate
//! and the share of the period's error budget each window spent, and for the whole run the
//! peak 5-minute burn rate and whether it would have paged (`slo.rs`, arithmetic in `burn.rs`);
//! and cost: the tokens billed to the attempts × their models' prices (`cost.rs`, `prices.rs`),
//! per logical request, and as a multiple of the baseline's (the first phase); and per phase,
//! the time to fail over off a faulted primary and to recover after (`transitions.rs`); and
//! from requests joined by correlation id, the gaps before retries (by the upstream retried
//! at), each request's time to fail over, and how closely retries followed `retry-after`.
//!
//! Attempts are joined to the logical request that caused them by correlation id where the id
//! survived the target; otherwise they count in the phase that was active at the interposer.
//! Each phase says which method its figures used.

pub use crate::results::{Figures, JoinMethod};

pub mod burn;
pub mod cost;
pub mod downsample;
pub mod keys;
pub mod live;
pub mod methods;
pub mod prices;
pub mod slo;
pub mod transitions;
pub mod upstream_timeline;

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::metrics::{Percentiles, SpectrumPoint};

use crate::{
    metrics::{Aggregate, Outcome, PhaseTotals, Records, Tallies},
    scenario::{
        expect::{Expectation, LatencyBasis, Metric},
        Plan,
    },
};

/// Figures per phase, in timeline order, and for the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub phases: Vec<Figures>,
    pub overall: Figures,
    /// Second by second, by finish time (`metrics::timeline`).
    pub timeline: Vec<crate::metrics::timeline::Second>,
    /// Attempts second by second, by arrival at an interposer.
    pub attempt_timeline: Vec<upstream_timeline::AttemptsSecond>,
    /// The rolling burn rates the paging rules watch, second by second.
    pub burn_timeline: Vec<slo::BurnSecond>,
    /// The seconds each point of the three timelines holds: 1, or more for a run longer than
    /// [`downsample::MOST_POINTS`] seconds.
    pub timeline_step_s: u64,
    /// The price of every model billed, and its source.
    pub prices: Vec<cost::AppliedPrice>,
    /// The counts the figures were computed from, kept so that runs can be merged.
    pub tallies: Tallies,
}

/// What the analysis reads: a run's tallies and its two per-second timelines, as a run folds
/// them from its records or as `chaos merge` adds up those of several runs.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    pub tallies: Tallies,
    /// By finish time.
    pub timeline: Vec<crate::metrics::timeline::Second>,
    /// By arrival at an interposer, named and priced.
    pub attempt_timeline: Vec<upstream_timeline::AttemptsSecond>,
    /// The seconds each point of the two timelines holds already (several for a merge of
    /// downsampled runs); 0 or 1: every second.
    pub step_s: u64,
}

impl Analysis {
    /// The observed value of a metric for a phase (`None` = whole run); `None` when there were
    /// no events to compute it from.
    pub fn value(&self, metric: Metric, phase: Option<usize>) -> Option<f64> {
        let figures = phase.and_then(|i| self.phases.get(i)).unwrap_or(&self.overall);
        match metric {
            Metric::Availability => figures.availability,
            Metric::ErrorRate => figures.error_rate,
            Metric::RetryAmplification => figures.retry_amplification,
            Metric::BurnRate => figures.burn_rate,
            Metric::BudgetSpent => figures.budget_spent,
            Metric::FallbackRate => figures.fallback_rate,
            Metric::CostMultiplier => figures.cost_multiplier,
            Metric::CostPerRequest => figures.cost_per_request_usd,
            Metric::CostPerMinute => figures
                .cost_usd
                .filter(|_| figures.duration_s > 0.0)
                .map(|usd| usd * 60.0 / figures.duration_s),
            Metric::RetryAfterCompliance => figures.retry_after_compliance,
            Metric::RetryAfterHonoured => figures.retry_after_honoured,
            Metric::DuplicateRate => figures.duplicate_rate,
            Metric::TimeToFailover => figures.transitions.time_to_failover(),
            Metric::TimeToRecover => figures.transitions.time_to_recover(),
            Metric::Latency { quantile, basis } => {
                let percentiles = match basis {
                    LatencyBasis::Latency => figures.latency_ms.as_ref(),
                    LatencyBasis::ServiceTime => figures.service_time_ms.as_ref(),
                    LatencyBasis::Ttfb => figures.ttfb_ms.as_ref(),
                    LatencyBasis::Ttft => figures.ttft_ms.as_ref(),
                    LatencyBasis::Itl => figures.itl_ms.as_ref(),
                    LatencyBasis::Stall => figures.stall_ms.as_ref(),
                    LatencyBasis::RetryGap => figures.retry_gap_ms.as_ref(),
                    LatencyBasis::Failover => figures.failover_ms.as_ref(),
                }?;
                Some(percentiles.at(quantile) / 1000.0)
            }
        }
    }

    /// The observed value of an expectation's metric over its phase and, for retry gaps, its
    /// upstream; `None` when there were no events to compute it from.
    pub fn observed(&self, expectation: &Expectation) -> Option<f64> {
        match (expectation.metric, &expectation.upstream) {
            (Metric::Latency { quantile, basis: LatencyBasis::RetryGap }, Some(upstream)) => {
                let percentiles = self.figures(expectation.phase).retry_gap_ms_by_upstream.get(upstream)?;
                Some(percentiles.at(quantile) / 1000.0)
            }
            (metric, _) => self.value(metric, expectation.phase),
        }
    }

    /// The figures an expectation on `phase` is evaluated over.
    pub fn figures(&self, phase: Option<usize>) -> &Figures {
        phase.and_then(|i| self.phases.get(i)).unwrap_or(&self.overall)
    }
}

/// Computes every figure from a run's records, folded.
pub fn analyze(plan: &Plan, aggregate: &Aggregate) -> Analysis {
    analyze_folded(
        plan,
        Folded {
            tallies: aggregate.tallies(),
            timeline: aggregate.timeline.seconds(),
            attempt_timeline: upstream_timeline::attempts_by_second(
                plan,
                aggregate.attempt_timeline.seconds(),
            ),
            step_s: 1,
        },
    )
}

/// Computes every figure from what a run folded (or several runs, added up): the one place the
/// figures are made, for a run and for a merge alike.
pub fn analyze_folded(plan: &Plan, folded: Folded) -> Analysis {
    let Folded { tallies, timeline, attempt_timeline, step_s } = folded;
    let empty = PhaseTotals::default();
    let mut phases: Vec<Figures> = plan
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let window = Window {
                name: &phase.name,
                start_s: phase.start.as_secs_f64(),
                duration_s: phase.duration.as_secs_f64(),
                plan,
            };
            figures(window, tallies.phases.get(index).unwrap_or(&empty))
        })
        .collect();
    let window = Window { name: "overall", start_s: 0.0, duration_s: plan.duration().as_secs_f64(), plan };
    let totals = tallies.overall();
    let mut overall = figures(window, &totals);
    let (peak, paging) = slo::run_burn(plan, &tallies);
    overall.peak_burn_rate_5m = peak;
    overall.paging = Some(paging);
    let baseline = phases.first().and_then(|phase| phase.cost_per_request_usd).filter(|cost| *cost > 0.0);
    for figures in phases.iter_mut().skip(1).chain([&mut overall]) {
        figures.cost_multiplier = figures.cost_per_request_usd.zip(baseline).map(|(cost, base)| cost / base);
    }
    let prices = cost::applied_prices(&totals.billed, prices::PriceBook { scenario: &plan.prices });
    let primary = plan.upstreams.get(plan.primary_upstream()).map_or("", |upstream| upstream.name.as_str());
    let seconds = transitions::seconds(primary, &attempt_timeline, &tallies.slo_seconds);
    for (figures, transitions) in phases.iter_mut().zip(transitions::per_phase(plan, &seconds, &tallies)) {
        figures.transitions = transitions;
    }
    // The timelines' last points: requests finishing and attempts arriving in the drain may
    // follow the plan's end by a few seconds.
    let extent = [
        plan.duration().as_secs_f64().ceil() as u64,
        timeline.last().map_or(0, |second| second.second + 1),
        attempt_timeline.last().map_or(0, |second| second.second + 1),
    ];
    let step = downsample::step_for(extent.into_iter().max().unwrap_or(0)).max(step_s);
    Analysis {
        phases,
        overall,
        timeline: downsample::timeline(&timeline, step),
        attempt_timeline: downsample::attempts(&attempt_timeline, step),
        burn_timeline: slo::burn_timeline(plan, &tallies, step),
        timeline_step_s: step,
        prices,
        tallies,
    }
}

/// [`analyze`] over records kept one by one.
pub fn analyze_records(plan: &Plan, records: &Records) -> Analysis {
    analyze(plan, &Aggregate::from_records(plan.phase_ends(), records))
}

/// The time window figures are for, in the plan they belong to.
struct Window<'a> {
    name: &'a str,
    start_s: f64,
    duration_s: f64,
    plan: &'a Plan,
}

fn figures(window: Window<'_>, totals: &PhaseTotals) -> Figures {
    let logical_requests = totals.logical_requests;
    let successes = totals.count(Outcome::Ok);
    let slo_events = slo::tally(totals);
    let outcomes = totals.outcomes.iter().map(|(outcome, count)| (outcome.key(), *count)).collect();
    let by_key = |statuses: &BTreeMap<crate::metrics::AttemptOutcome, u64>| -> BTreeMap<String, u64> {
        statuses.iter().map(|(status, count)| (status.key(), *count)).collect()
    };
    let (attempt_count, joined) = (totals.attempts, totals.joined);
    let ratio = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let failures = logical_requests - successes;
    let slo = window.plan.slo;
    let burn_rate = burn::burn_rate(slo_events, slo.availability);
    let upstreams = &window.plan.upstreams;
    let upstream_name =
        |index: usize| upstreams.get(index).map_or_else(|| index.to_string(), |u| u.name.clone());
    let served_by = totals.served.iter().map(|(index, count)| (upstream_name(*index), *count)).collect();
    let joins = &totals.joins;
    // Files written before the shares were counted have none: unknown, not zero.
    let followed = joins.within_tolerance_retries + joins.longer_retries + joins.shorter_retries;
    let served: u64 = totals.served.values().sum();
    let primary = window.plan.primary_upstream();
    let by_fallback = served - totals.served.get(&primary).copied().unwrap_or(0);
    let cost = cost::cost(&totals.billed, prices::PriceBook { scenario: &window.plan.prices });
    // No attempt seen: the traffic did not pass the interposers, and its cost is unknown.
    let cost_usd = cost.usd.filter(|_| attempt_count > 0);
    Figures {
        name: window.name.to_owned(),
        start_s: window.start_s,
        duration_s: window.duration_s,
        logical_requests,
        successes,
        failures,
        attempts: attempt_count,
        uncorrelated_attempts: totals.uncorrelated,
        uncorrelated_cost_usd: (totals.uncorrelated > 0)
            .then(|| {
                cost::cost(&totals.uncorrelated_billed, prices::PriceBook { scenario: &window.plan.prices })
                    .usd
            })
            .flatten(),
        injected: totals.injected,
        incomplete_streams: totals.incomplete_streams,
        availability: ratio(successes, logical_requests),
        error_rate: ratio(failures, logical_requests),
        // No attempt seen means the traffic did not pass the interposers (a target that is not
        // pointed at them): unknown, not zero.
        retry_amplification: if attempt_count == 0 { None } else { ratio(attempt_count, logical_requests) },
        latency_ms: Percentiles::of(&totals.latency),
        service_time_ms: Percentiles::of(&totals.service_time),
        ttfb_ms: Percentiles::of(&totals.ttfb),
        ttft_ms: Percentiles::of(&totals.ttft),
        itl_ms: Percentiles::of(&totals.itl),
        stall_ms: Percentiles::of(&totals.stall),
        latency_spectrum: crate::metrics::spectrum(&totals.latency),
        service_time_spectrum: crate::metrics::spectrum(&totals.service_time),
        output_tokens: totals.output_tokens,
        outcomes,
        attempt_statuses: by_key(&totals.attempt_statuses),
        injected_statuses: by_key(&totals.injected_statuses),
        join: match (joined, attempt_count) {
            (_, 0) => JoinMethod::None,
            (j, n) if j == n => JoinMethod::Correlation,
            (0, _) => JoinMethod::PhaseWindow,
            _ => JoinMethod::Mixed,
        },
        burn_rate,
        budget_spent: burn_rate
            .and_then(|rate| burn::budget_spent(rate, window.duration_s, slo.period.as_secs_f64())),
        peak_burn_rate_5m: None,
        paging: None,
        served_by,
        fallback_rate: ratio(by_fallback, served),
        billed_input_tokens: cost.input_tokens,
        billed_output_tokens: cost.output_tokens,
        estimated_token_share: cost.estimated_share,
        cost_usd,
        cost_per_request_usd: cost_usd
            .filter(|_| logical_requests > 0)
            .map(|usd| usd / logical_requests as f64),
        cost_multiplier: None,
        unpriced_attempts: cost.unpriced_attempts,
        retries_asked_to_wait: joins.asked_retries,
        retry_after_compliance: ratio(joins.honoured_retries, joins.asked_retries),
        retry_after_honoured: ratio(joins.within_tolerance_retries, followed),
        retry_after_longer: ratio(joins.longer_retries, followed),
        retry_after_shorter: ratio(joins.shorter_retries, followed),
        retry_gap_ms: Percentiles::of(&totals.gaps.all_retry_gaps()),
        retry_gap_ms_by_upstream: totals
            .gaps
            .retry_gaps
            .iter()
            .filter_map(|(index, gaps)| Some((upstream_name(*index), Percentiles::of(gaps)?)))
            .collect(),
        failovers: totals.gaps.failover.len(),
        failover_ms: Percentiles::of(&totals.gaps.failover),
        duplicate_requests: totals.joins.duplicate_requests,
        duplicate_rate: ratio(totals.joins.duplicate_requests, logical_requests),
        transitions: transitions::Transitions::default(),
    }
}
