//! Prometheus exposition of a run in progress, through `prometheus-client`: a collector that
//! reads the run's folded records and the monitor's latest live figures at each scrape, so the
//! numbers served are the ones `results.json` will hold, with no second set of counters to keep
//! in step.
//!
//! Names follow the Prometheus conventions (base units, `_seconds`, `_total`); every series has
//! the scenario's name as `scenario`, and other labels come only from bounded sets
//! ([`super::labels`] and the scenario's phase and upstream names).

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use hdrhistogram::Histogram;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet},
    metrics::{counter::ConstCounter, gauge::ConstGauge, MetricType},
    registry::Registry,
};

use super::{labels, state::RunState};
use crate::metrics::{attempt_timeline::AttemptKind, Aggregate};

/// Upper bounds of the duration histograms, seconds: from a fast mock's answer to a stalled
/// stream's timeout. Fixed, so the series per phase stay bounded.
pub const DURATION_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The content type of what [`encode`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A registry serving `state`'s figures, every series labelled with the scenario's name.
pub fn registry(state: Arc<RunState>) -> Registry {
    let scenario = state.plan().name.clone();
    let mut registry = Registry::with_labels([(Cow::Borrowed("scenario"), Cow::Owned(scenario))].into_iter());
    registry.register_collector(Box::new(RunCollector { state }));
    registry
}

/// The text exposition of `registry`.
pub fn encode(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    Ok(text)
}

#[derive(Debug)]
struct RunCollector {
    state: Arc<RunState>,
}

/// A phase's latency and TTFT histograms, microseconds.
type Durations = (Histogram<u32>, Histogram<u32>);
/// Which of them a histogram family shows.
type Pick = fn(&Durations) -> &Histogram<u32>;

/// What one scrape reads of the folded records, taken under the recorder's lock.
struct Snapshot {
    /// By phase index: logical requests by outcome label.
    requests: Vec<BTreeMap<&'static str, u64>>,
    attempts: BTreeMap<AttemptKind, u64>,
    /// By phase index: (latency, TTFT) histograms, microseconds.
    durations: Vec<Durations>,
}

impl Snapshot {
    fn of(aggregate: &Aggregate) -> Snapshot {
        let requests = aggregate
            .phases
            .iter()
            .map(|phase| {
                let mut by_label = BTreeMap::new();
                for (outcome, count) in &phase.outcomes {
                    *by_label.entry(labels::outcome(*outcome)).or_insert(0) += count;
                }
                by_label
            })
            .collect();
        let mut attempts = BTreeMap::new();
        for (kind, count) in aggregate.attempt_timeline.seconds().iter().flat_map(|second| &second.counts) {
            *attempts.entry(*kind).or_insert(0) += count;
        }
        let durations =
            aggregate.phases.iter().map(|phase| (phase.latency.clone(), phase.ttft.clone())).collect();
        Snapshot { requests, attempts, durations }
    }
}

impl Collector for RunCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let plan = self.state.plan();
        let Some(snapshot) = self.state.recorder.with_aggregate(Snapshot::of) else { return Ok(()) };
        let phase_name = |index: usize| plan.phases.get(index).map_or("", |phase| phase.name.as_str());

        let mut family = encoder.encode_descriptor(
            "chaos_requests",
            "Logical requests the load generator sent, by the phase they were meant to start in and how they ended.",
            None,
            MetricType::Counter,
        )?;
        for (index, outcomes) in snapshot.requests.iter().enumerate() {
            for (outcome, count) in outcomes {
                let labels = [("phase", phase_name(index)), ("outcome", outcome)];
                ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
            }
        }

        let mut family = encoder.encode_descriptor(
            "chaos_attempts",
            "Attempts that reached an interposer, by upstream, status class and whether a fault answered.",
            None,
            MetricType::Counter,
        )?;
        for (kind, count) in &snapshot.attempts {
            let upstream = plan.upstreams.get(kind.upstream).map_or("", |u| u.name.as_str());
            let labels = [
                ("upstream", upstream),
                ("status_class", labels::status_class(kind.outcome)),
                ("injected", labels::flag(kind.injected)),
            ];
            ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
        }

        let histograms: [(&str, &str, Pick); 2] = [
            (
                "chaos_request_duration_seconds",
                "Logical request latency from its intended start (coordinated-omission-correct), by phase.",
                |pair| &pair.0,
            ),
            (
                "chaos_time_to_first_token_seconds",
                "Time from the intended start to the first token, by phase.",
                |pair| &pair.1,
            ),
        ];
        for (name, help, pick) in histograms {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
            for (index, pair) in snapshot.durations.iter().enumerate() {
                let (sum, count, buckets) = buckets(pick(pair));
                let labels = [("phase", phase_name(index))];
                family.encode_family(&labels)?.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
            }
        }

        let figures = self.state.figures();
        let gauges = [
            (
                "chaos_requests_per_second",
                "Requests finished per second over the trailing window.",
                "10s",
                figures.as_ref().map(|f| f.requests_per_s),
            ),
            (
                "chaos_error_ratio",
                "Share of requests finished in the trailing window that failed.",
                "30s",
                figures.as_ref().and_then(|f| f.error_rate),
            ),
            (
                "chaos_burn_rate",
                "SLO burn rate over the trailing window (1 spends the budget over the SLO period).",
                "5m",
                figures.as_ref().and_then(|f| f.burn_rate_5m),
            ),
            (
                "chaos_cost_usd_per_minute",
                "Spend per minute over the trailing window, US dollars.",
                "60s",
                figures.as_ref().and_then(|f| f.cost_per_minute_usd),
            ),
        ];
        for (name, help, window, value) in gauges {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            if let Some(value) = value {
                ConstGauge::new(value).encode(family.encode_family(&[("window", window)])?)?;
            }
        }
        if let Some(spent) = figures.as_ref().and_then(|f| f.spent_usd) {
            let family = encoder.encode_descriptor(
                "chaos_spend_usd",
                "US dollars the attempts so far cost at the scenario's prices.",
                None,
                MetricType::Counter,
            )?;
            ConstCounter::new(spent).encode(family)?;
        }

        let elapsed = self.state.clock.elapsed();
        let current = plan.phase_at(elapsed);
        let mut family = encoder.encode_descriptor(
            "chaos_phase_info",
            "The phase in force now: 1 for it, no series for the others.",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(1i64).encode(family.encode_family(&[("phase", phase_name(current))])?)?;
        let remaining =
            plan.phases.get(current).map_or(0.0, |phase| phase.end().saturating_sub(elapsed).as_secs_f64());
        let plain = [
            ("chaos_phase_index", "The index of the phase in force now, from 0.", current as f64),
            ("chaos_phase_remaining_seconds", "Time left in the phase in force now.", remaining),
            ("chaos_run_elapsed_seconds", "Time since the run's clock started.", elapsed.as_secs_f64()),
            (
                "chaos_halted",
                "1 once the run was halted (a halt condition or an emergency stop).",
                f64::from(u8::from(self.state.halted())),
            ),
        ];
        for (name, help, value) in plain {
            ConstGauge::new(value).encode(encoder.encode_descriptor(
                name,
                help,
                None,
                MetricType::Gauge,
            )?)?;
        }
        Ok(())
    }
}

/// Sum (seconds), count and per-bucket counts (not cumulative: the encoder adds them up) of a
/// microsecond histogram, with a last `+Inf` bucket. The sum is the histogram's mean × count,
/// exact to its three significant digits.
fn buckets(histogram: &Histogram<u32>) -> (f64, u64, Vec<(f64, u64)>) {
    let mut buckets: Vec<(f64, u64)> =
        DURATION_BUCKETS.iter().map(|bound| (*bound, 0)).chain([(f64::INFINITY, 0)]).collect();
    for value in histogram.iter_recorded() {
        let seconds = histogram.highest_equivalent(value.value_iterated_to()) as f64 / 1e6;
        if let Some(bucket) = buckets.iter_mut().find(|(bound, _)| seconds <= *bound) {
            bucket.1 += u64::from(value.count_at_value());
        }
    }
    let count = histogram.len();
    (histogram.mean() * count as f64 / 1e6, count, buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_count_each_value_once_in_the_first_bound_above_it() {
        let mut histogram = crate::metrics::micros::histogram();
        for micros in [1_000, 4_000, 200_000, 200_000, 90_000_000, 500_000_000] {
            crate::metrics::micros::record(&mut histogram, micros, 1);
        }
        let (sum, count, buckets) = buckets(&histogram);
        assert_eq!(count, 6);
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 6);
        let at = |bound: f64| buckets.iter().find(|(b, _)| *b == bound).map(|(_, n)| *n);
        assert_eq!(at(0.005), Some(2));
        assert_eq!(at(0.25), Some(2));
        assert_eq!(at(120.0), Some(1));
        assert_eq!(at(f64::INFINITY), Some(1));
        assert!((sum - 590.405).abs() / 590.405 < 0.01, "{sum}");
    }
}
