//! The report's charts as data: for each, its series over the run's seconds (or over the HDR
//! quantile axis), its scale and its reference lines, made from `results.json` alone. The page's
//! script (`report.js`) hands them to uPlot as they are; everything a chart shows is decided
//! here, where it is tested.
//!
//! Values are rounded to four significant digits: a chart cannot show more, and a 30-minute
//! run's report stays small. A long run's timelines come downsampled (`timeline_step_s`): a
//! point then stands for its bucket of seconds, rates per second are the bucket's mean, and the
//! charts have as many points as the timelines, never one per planned second.

use std::collections::BTreeMap;

use serde::Serialize;

use super::palette;
use crate::results::{BurnSecond, Percentiles, Results, Second, SpectrumPoint, SPECTRUM_QUANTILES};

/// How a chart's y axis is spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Linear,
    /// Logarithmic: latencies spanning milliseconds to a timeout.
    Log,
    /// Linear near zero, logarithmic further out: burn rates, 0 in a clean phase, 1000 in an
    /// outage.
    Asinh,
}

/// What the x axis counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    /// Seconds from the run's start, phases shaded.
    Seconds,
    /// `-log10(1 - q)` of a quantile `q`: 1 is p90, 2 p99, 3 p99.9; the maximum last.
    Quantile,
}

/// One line (or band, when stacked) of a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub label: String,
    /// One per x value; `None` where there is nothing to show.
    pub values: Vec<Option<f64>>,
    pub color: String,
    /// Drawn dashed: a figure shown for comparison (the uncorrected latency).
    pub dashed: bool,
}

/// A horizontal reference line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub label: String,
    pub value: f64,
}

/// One chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    /// The y axis's unit, as shown beside it.
    pub unit: &'static str,
    pub scale: Scale,
    pub x_axis: XAxis,
    /// Series are stacked, each drawn on top of those before it.
    pub stacked: bool,
    pub x: Vec<f64>,
    pub series: Vec<Series>,
    pub thresholds: Vec<Threshold>,
}

/// A phase's window, for shading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseBand {
    pub name: String,
    pub start_s: f64,
    pub end_s: f64,
    /// Whether a fault answered any attempt in it.
    pub faulted: bool,
}

/// Everything the page's script draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartData {
    pub phases: Vec<PhaseBand>,
    pub charts: Vec<Chart>,
}

/// The charts of a run.
pub fn chart_data(results: &Results) -> ChartData {
    let seconds = Axis::of(results);
    let phases = results
        .phases
        .iter()
        .map(|phase| PhaseBand {
            name: phase.name.clone(),
            start_s: phase.start_s,
            end_s: phase.start_s + phase.duration_s,
            faulted: phase.injected > 0,
        })
        .collect();
    let charts = vec![
        outcomes_chart(results, seconds),
        latency_chart(results, seconds),
        ttft_chart(results, seconds),
        attempts_chart(results, seconds),
        burn_chart(results, seconds),
        cost_chart(results, seconds),
        spectrum_chart(results),
    ];
    ChartData { phases, charts }
}

/// The time axis the charts share: its points, each `step` seconds from the one before.
#[derive(Debug, Clone, Copy)]
struct Axis {
    points: usize,
    step: u64,
}

impl Axis {
    /// The run as it ran (a stopped run's phases end where it stopped), or longer when answers
    /// arrived after it, at the timelines' step.
    fn of(results: &Results) -> Axis {
        let step = results.timeline_step_s.max(1);
        let ran = (results.overall.start_s + results.overall.duration_s).ceil() as u64;
        let last = |second: Option<u64>| second.map_or(0, |second| second + 1);
        let last_finished = last(results.timeline.iter().map(|s| s.second).max());
        let last_attempt = last(results.attempt_timeline.last().map(|s| s.second));
        let last_burn = last(results.burn_timeline.last().map(|s| s.second));
        let seconds = ran.max(last_finished).max(last_attempt).max(last_burn);
        Axis { points: usize::try_from(seconds.div_ceil(step)).unwrap_or(usize::MAX), step }
    }

    /// The point that holds `second`.
    fn point(self, second: u64) -> usize {
        usize::try_from(second / self.step).unwrap_or(usize::MAX)
    }
}

fn time_chart(id: &'static str, title: &str, unit: &'static str, scale: Scale, seconds: Axis) -> Chart {
    Chart {
        id,
        title: title.to_owned(),
        unit,
        scale,
        x_axis: XAxis::Seconds,
        stacked: false,
        x: (0..seconds.points).map(|point| (point as u64 * seconds.step) as f64).collect(),
        series: Vec::new(),
        thresholds: Vec::new(),
    }
}

fn series(label: impl Into<String>, values: Vec<Option<f64>>, color: impl Into<String>) -> Series {
    Series {
        label: label.into(),
        values: values.into_iter().map(|v| v.map(round)).collect(),
        color: color.into(),
        dashed: false,
    }
}

/// Four significant digits.
fn round(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(3 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

/// Requests finished each second (each point's mean), stacked by how they ended.
fn outcomes_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart =
        time_chart("outcomes", "Requests per second, by outcome", "req/s", Scale::Linear, seconds);
    chart.stacked = true;
    let mut by_outcome: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    for second in &results.timeline {
        for (outcome, count) in &second.outcomes {
            let values = by_outcome.entry(outcome).or_insert_with(|| vec![Some(0.0); seconds.points]);
            if let Some(value) = values.get_mut(seconds.point(second.second)) {
                *value = Some(value.unwrap_or(0.0) + *count as f64 / seconds.step as f64);
            }
        }
    }
    // Successes at the bottom, failures stacked on them.
    let mut outcomes: Vec<(&str, Vec<Option<f64>>)> = by_outcome.into_iter().collect();
    outcomes.sort_by_key(|(outcome, _)| *outcome != "ok");
    chart.series = outcomes
        .into_iter()
        .map(|(outcome, values)| series(outcome, values, palette::outcome(outcome)))
        .collect();
    chart
}

/// One value per point of the chart: `value` of the item at that point (`second` says which),
/// `empty` for a point no item falls in.
fn by_second<T>(
    items: &[T],
    seconds: Axis,
    empty: Option<f64>,
    second: fn(&T) -> u64,
    value: impl Fn(&T) -> Option<f64>,
) -> Vec<Option<f64>> {
    let mut values = vec![empty; seconds.points];
    for item in items {
        if let Some(slot) = values.get_mut(seconds.point(second(item))) {
            *slot = value(item);
        }
    }
    values
}

/// The value of `pick` in each second's percentiles of `which`.
fn per_second(
    results: &Results,
    seconds: Axis,
    which: fn(&Second) -> Option<Percentiles>,
    pick: fn(&Percentiles) -> f64,
) -> Vec<Option<f64>> {
    by_second(&results.timeline, seconds, None, |s| s.second, |s| which(s).map(|p| pick(&p)))
}

/// Latency percentiles each second, from the intended start, with the uncorrected p99 beside.
fn latency_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart = time_chart(
        "latency",
        "Latency from the intended start (coordinated-omission-correct)",
        "ms",
        Scale::Log,
        seconds,
    );
    let latency = |s: &Second| s.latency_ms;
    chart.series = vec![
        series("p50", per_second(results, seconds, latency, |p| p.p50), palette::P50),
        series("p99", per_second(results, seconds, latency, |p| p.p99), palette::P99),
        series("max", per_second(results, seconds, latency, |p| p.max), palette::MAX),
        Series {
            dashed: true,
            ..series(
                "p99 from the send (uncorrected)",
                per_second(results, seconds, |s| s.service_time_ms, |p| p.p99),
                palette::UNCORRECTED,
            )
        },
    ];
    chart
}

/// Time to first token each second.
fn ttft_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart =
        time_chart("ttft", "Time to first token, from the intended start", "ms", Scale::Log, seconds);
    let ttft = |s: &Second| s.ttft_ms;
    chart.series = vec![
        series("p50", per_second(results, seconds, ttft, |p| p.p50), palette::P50),
        series("p99", per_second(results, seconds, ttft, |p| p.p99), palette::P99),
        series("max", per_second(results, seconds, ttft, |p| p.max), palette::MAX),
    ];
    chart
}

/// Attempts reaching the interposers each second (each point's mean), stacked by upstream and
/// status: fallback and retry storms made visible.
fn attempts_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart = time_chart(
        "attempts",
        "Upstream attempts per second, by upstream and status",
        "attempts/s",
        Scale::Linear,
        seconds,
    );
    chart.stacked = true;
    // Upstreams in the scenario's order (then any other name, as first seen), each its colour.
    let mut upstream_order: Vec<&str> = results.upstreams.iter().map(|u| u.name.as_str()).collect();
    for count in results.attempt_timeline.iter().flat_map(|second| &second.attempts) {
        if !upstream_order.contains(&count.upstream.as_str()) {
            upstream_order.push(&count.upstream);
        }
    }
    let mut by_kind: BTreeMap<(usize, bool, &str, bool), Vec<Option<f64>>> = BTreeMap::new();
    for second in &results.attempt_timeline {
        for count in &second.attempts {
            let upstream = upstream_order.iter().position(|name| *name == count.upstream).unwrap_or_default();
            let failed = !count.status.starts_with('2');
            let values = by_kind
                .entry((upstream, failed, count.status.as_str(), count.injected))
                .or_insert_with(|| vec![Some(0.0); seconds.points]);
            if let Some(Some(value)) = values.get_mut(seconds.point(second.second)) {
                *value += count.count as f64 / seconds.step as f64;
            }
        }
    }
    chart.series = by_kind
        .into_iter()
        .map(|((upstream, _, status, injected), values)| {
            let name = upstream_order.get(upstream).copied().unwrap_or("?");
            let label = format!("{name} {status}{}", if injected { " (injected)" } else { "" });
            series(label, values, palette::attempt(upstream, status, injected))
        })
        .collect();
    chart
}

/// The rolling burn rates the paging rules watch, with the rates at which they page.
fn burn_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart =
        time_chart("burn", "Error-budget burn rate, rolling windows", "× budget pace", Scale::Asinh, seconds);
    type Pick = fn(&BurnSecond) -> Option<f64>;
    let windows: [(&str, Pick, &str, bool); 4] = [
        ("5 min", |b| b.burn_rate_5m, palette::P99, false),
        ("1 h", |b| b.burn_rate_1h, palette::P50, false),
        ("30 min", |b| b.burn_rate_30m, palette::P99, true),
        ("6 h", |b| b.burn_rate_6h, palette::P50, true),
    ];
    chart.series = windows
        .into_iter()
        .map(|(label, pick, color, dashed)| {
            let values = by_second(&results.burn_timeline, seconds, None, |b| b.second, pick);
            Series { dashed, ..series(label, values, color) }
        })
        .collect();
    chart.thresholds = vec![
        Threshold { label: "pages at 14.4 (1 h and 5 min)".to_owned(), value: 14.4 },
        Threshold { label: "pages at 6 (6 h and 30 min)".to_owned(), value: 6.0 },
    ];
    chart
}

/// What the attempts of the last minute cost, second by second; a point of a minute or more
/// shows its own mean spend per minute.
fn cost_chart(results: &Results, seconds: Axis) -> Chart {
    let mut chart = time_chart(
        "cost",
        "Spend per minute (attempts of the trailing 60 s)",
        "USD/min",
        Scale::Linear,
        seconds,
    );
    let per_second = by_second(&results.attempt_timeline, seconds, Some(0.0), |s| s.second, |s| s.cost_usd);
    // Points in the trailing minute (every step below a minute divides it), and what their sum
    // is multiplied by to make a spend per minute.
    let window = usize::try_from((60 / seconds.step).max(1)).unwrap_or(1);
    let per_minute = 60.0 / (window as u64 * seconds.step) as f64;
    let trailing = (0..seconds.points)
        .map(|end| {
            let sum = per_second[(end + 1).saturating_sub(window)..=end].iter().copied().sum::<Option<f64>>();
            sum.map(|usd| usd * per_minute)
        })
        .collect();
    chart.series = vec![series("USD per minute", trailing, palette::COST)];
    chart
}

/// Each phase's latency at every quantile of the HDR spectrum.
fn spectrum_chart(results: &Results) -> Chart {
    let quantiles = SPECTRUM_QUANTILES;
    let mut chart = Chart {
        id: "spectrum",
        title: "Latency by percentile, per phase (from the intended start)".to_owned(),
        unit: "ms",
        scale: Scale::Log,
        x_axis: XAxis::Quantile,
        stacked: false,
        x: quantiles.iter().map(|q| round(quantile_position(*q))).collect(),
        series: Vec::new(),
        thresholds: Vec::new(),
    };
    chart.series = results
        .phases
        .iter()
        .enumerate()
        .map(|(index, figures)| {
            let spectrum: &[SpectrumPoint] = &figures.latency_spectrum;
            let values = quantiles
                .iter()
                .map(|q| spectrum.iter().find(|point| point.quantile == *q).map(|point| point.ms))
                .collect();
            series(figures.name.clone(), values, palette::phase(index))
        })
        .collect();
    chart
}

/// Where quantile `q` sits on the spectrum's axis: `-log10(1 - q)`, the maximum half a decade
/// past p99.99.
pub fn quantile_position(q: f64) -> f64 {
    if q >= 1.0 {
        4.5
    } else {
        -(1.0 - q).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart<'a>(data: &'a ChartData, id: &str) -> &'a Chart {
        data.charts.iter().find(|chart| chart.id == id).expect("the chart")
    }

    fn drawn(series: &Series) -> usize {
        series.values.iter().flatten().count()
    }

    #[test]
    fn every_chart_of_a_run_has_points_for_each_second() {
        let results = crate::test_support::results();
        let data = chart_data(&results);
        assert_eq!(data.phases.len(), results.phases.len());
        for chart in &data.charts {
            assert!(chart.series.iter().any(|s| drawn(s) > 0), "{} has nothing to draw", chart.id);
            for series in &chart.series {
                assert_eq!(series.values.len(), chart.x.len(), "{} / {}", chart.id, series.label);
            }
        }
        let seconds = chart(&data, "outcomes").x.len();
        assert!(seconds as f64 >= results.overall.duration_s, "{seconds}");
    }

    #[test]
    fn outcomes_stack_successes_first_and_attempts_name_upstream_and_cause() {
        let results = crate::test_support::results();
        let data = chart_data(&results);
        let outcomes = chart(&data, "outcomes");
        assert_eq!(outcomes.series[0].label, "ok");
        let total: f64 = outcomes.series.iter().flat_map(|s| s.values.iter().flatten()).sum();
        let finished: u64 = results.timeline.iter().map(|s| s.finished).sum();
        assert_eq!(total as u64, finished);
        let attempts = chart(&data, "attempts");
        let counted: f64 = attempts.series.iter().flat_map(|s| s.values.iter().flatten()).sum();
        assert_eq!(counted as u64, results.overall.attempts);
        assert!(attempts.series.iter().any(|s| s.label.ends_with("(injected)")), "{:?}", attempts.series);
    }

    #[test]
    fn the_spectrum_axis_spreads_the_tail() {
        assert_eq!(quantile_position(0.0), 0.0);
        assert!((quantile_position(0.99) - 2.0).abs() < 1e-9);
        assert!((quantile_position(0.999) - 3.0).abs() < 1e-9);
        assert!(quantile_position(1.0) > quantile_position(0.9999));
        assert_eq!((round(1234.567), round(0.012_345_6), round(0.0)), (1235.0, 0.01235, 0.0));
    }

    #[test]
    fn the_cost_chart_sums_the_trailing_minute() {
        let mut results = crate::test_support::results();
        for (index, second) in results.attempt_timeline.iter_mut().enumerate() {
            second.cost_usd = Some(if index == 0 { 1.0 } else { 0.5 });
        }
        let data = chart_data(&results);
        let cost = &chart(&data, "cost").series[0].values;
        assert_eq!(cost[0], Some(1.0));
        if results.attempt_timeline.len() > 2 {
            assert_eq!(cost[2], Some(2.0));
        }
    }
}
