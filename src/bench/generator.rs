//! The generator's ceiling: the highest open-model rate it sustains, with coordinated-omission
//! correction on, against a fast `chaos mock` child — climbing a ladder of rates until one
//! fails.
//!
//! A rate is sustained when the generator started every request on schedule (no start skipped,
//! its p99 lateness within bounds), the achieved rate is at least 98 % of the asked one, every
//! request succeeded, and the corrected p99 stayed under 100 ms. Why the latency rule: an
//! open-model generator that cannot keep up still "sends" every start, late, and its corrected
//! latency then grows with the queue — hundreds of milliseconds within seconds — while one that
//! keeps up on this kind of machine shows a p99 of a few milliseconds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    child::ChildServer,
    probe::{Arrival, Probe, Scratch},
};

/// The achieved share of the asked rate below which a rate is not sustained.
const MIN_ACHIEVED: f64 = 0.98;
/// The corrected p99 at or above which a rate is not sustained, milliseconds.
const P99_LIMIT_MS: f64 = 100.0;

/// The ladder to climb.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateLadder {
    /// Rates per second, in increasing order.
    pub rates: Vec<u32>,
    /// Connections the generator may use.
    pub connections: u32,
    /// Seconds at each rate.
    pub seconds: f64,
}

/// One rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateStep {
    pub rate: u32,
    pub sustained: bool,
    /// Requests started per second.
    pub achieved_per_s: f64,
    /// Corrected (from the intended start) p99, milliseconds.
    pub p99_ms: Option<f64>,
    /// Start lateness p99, milliseconds.
    pub lag_p99_ms: Option<f64>,
    /// Why the rate was not sustained; empty when it was.
    pub why_not: Vec<String>,
}

/// The generator's ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratorFigures {
    pub ladder: RateLadder,
    /// The highest rate sustained before the first that was not; `None` if the first failed.
    pub max_sustained_per_s: Option<u32>,
    /// Whether the ladder ran out before a rate failed: the ceiling is higher than measured.
    pub ceiling_not_reached: bool,
    pub steps: Vec<RateStep>,
}

/// Climbs `ladder` against a fresh mock until a rate is not sustained.
pub async fn measure(scratch: &Scratch, ladder: RateLadder) -> anyhow::Result<GeneratorFigures> {
    let mock = ChildServer::start(&["mock", "--openai", "127.0.0.1:0"]).await?;
    let url = format!("http://{}", mock.addr);
    let duration = Duration::from_secs_f64(ladder.seconds);
    let mut steps = Vec::new();
    let mut max_sustained_per_s = None;
    for &rate in &ladder.rates {
        let arrival = Arrival::Open { rate, connections: ladder.connections };
        let probe = scratch.probe(&url, arrival, duration).await?;
        let step = judge(rate, &probe);
        let sustained = step.sustained;
        steps.push(step);
        if !sustained {
            break;
        }
        max_sustained_per_s = Some(rate);
    }
    let ceiling_not_reached = steps.len() == ladder.rates.len() && steps.iter().all(|s| s.sustained);
    Ok(GeneratorFigures { ladder, max_sustained_per_s, ceiling_not_reached, steps })
}

/// Whether `probe`, run at `rate`, sustained it, and why not.
fn judge(rate: u32, probe: &Probe) -> RateStep {
    let achieved_per_s = if probe.seconds > 0.0 { probe.sent as f64 / probe.seconds } else { 0.0 };
    let p99_ms = probe.latency_ms.map(|p| p.p99);
    let mut why_not = Vec::new();
    if !probe.kept_up || probe.missed > 0 {
        why_not.push(format!("the generator fell behind ({} starts skipped)", probe.missed));
    }
    if achieved_per_s < MIN_ACHIEVED * f64::from(rate) {
        why_not.push(format!("achieved {achieved_per_s:.0}/s"));
    }
    if !probe.all_succeeded() {
        why_not.push(format!(
            "{} of {} requests failed",
            probe.sent - probe.successes.min(probe.sent),
            probe.sent
        ));
    }
    match p99_ms {
        Some(p99) if p99 < P99_LIMIT_MS => {}
        Some(p99) => why_not.push(format!("corrected p99 {p99:.1} ms")),
        None => why_not.push("no latency measured".to_owned()),
    }
    RateStep {
        rate,
        sustained: why_not.is_empty(),
        achieved_per_s,
        p99_ms,
        lag_p99_ms: probe.lag_ms.map(|p| p.p99),
        why_not,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Percentiles;

    fn probe(sent: u64, successes: u64, p99: f64) -> Probe {
        let percentiles = Percentiles { p50: 1.0, p90: 1.0, p99, p999: p99, max: p99 };
        Probe {
            sent,
            missed: 0,
            successes,
            seconds: 2.0,
            kept_up: true,
            latency_ms: Some(percentiles),
            service_time_ms: Some(percentiles),
            lag_ms: Some(percentiles),
        }
    }

    #[test]
    fn a_rate_is_sustained_only_on_schedule_all_answered_and_under_the_latency_limit() {
        assert!(judge(1000, &probe(2000, 2000, 4.0)).sustained);
        let short = judge(1000, &probe(1900, 1900, 4.0));
        assert_eq!(short.why_not, ["achieved 950/s"]);
        let failed = judge(1000, &probe(2000, 1990, 4.0));
        assert_eq!(failed.why_not, ["10 of 2000 requests failed"]);
        let queued = judge(1000, &probe(2000, 2000, 350.0));
        assert_eq!(queued.why_not, ["corrected p99 350.0 ms"]);
        let behind = judge(1000, &Probe { missed: 5, kept_up: false, ..probe(2000, 2000, 4.0) });
        assert!(!behind.sustained);
    }
}
