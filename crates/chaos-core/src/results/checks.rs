//! The expectations of a scenario, each with what was observed, and the verdict they lead to.

use serde::{Deserialize, Serialize};

/// The outcome of one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    Inconclusive,
}

/// One expectation with what was observed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Check {
    #[serde(flatten)]
    pub expectation: Expectation,
    /// The phase's name, or `None` for the whole run.
    pub phase: Option<String>,
    /// The metric's value, in its base unit as `threshold` is; `None` when there was nothing to
    /// measure.
    pub observed: Option<f64>,
    /// Logical requests in the window the figure came from.
    pub events: u64,
    /// Whether the expectation held.
    pub status: CheckStatus,
}

/// The run's verdict; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    /// The load generator fell behind its schedule: the figures measure it, not the target.
    Invalid,
    Interrupted,
    /// A halt condition stopped the run and removed every fault.
    Halted,
}

/// Which latency a percentile is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyBasis {
    /// From the intended start on the schedule (coordinated-omission-correct).
    Latency,
    /// From the actual send.
    ServiceTime,
    /// Time to the final answer's head, from the intended start.
    Ttfb,
    /// Time to the first token, from the intended start.
    Ttft,
    /// Gaps between tokens.
    Itl,
    /// Each request's longest gap between tokens.
    Stall,
    /// Gaps between consecutive attempts of a logical request (answer end to next arrival).
    RetryGap,
    /// Per request, from its first failed answer to its first attempt at another upstream.
    Failover,
}

impl LatencyBasis {
    /// How an expectation names each basis: `p99(ttft)`.
    pub const NAMES: &'static [(&'static str, LatencyBasis)] = &[
        ("latency", LatencyBasis::Latency),
        ("service_time", LatencyBasis::ServiceTime),
        ("ttfb", LatencyBasis::Ttfb),
        ("ttft", LatencyBasis::Ttft),
        ("itl", LatencyBasis::Itl),
        ("stall", LatencyBasis::Stall),
        ("retry_gap", LatencyBasis::RetryGap),
        ("failover", LatencyBasis::Failover),
    ];
}

/// The figure an expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Metric {
    /// Share of logical requests that succeeded.
    Availability,
    /// Share of logical requests that failed.
    ErrorRate,
    /// Upstream attempts per logical request.
    RetryAmplification,
    /// How fast the SLO's error budget burnt: bad ratio ÷ (1 − objective).
    BurnRate,
    /// The fraction of the SLO period's error budget spent.
    BudgetSpent,
    /// Share of successful answers that came from an upstream other than the primary.
    FallbackRate,
    /// Cost per logical request ÷ the baseline phase's.
    CostMultiplier,
    /// What the attempts of a logical request cost, on average, in US dollars.
    CostPerRequest,
    /// What the attempts cost per minute of the window, in US dollars.
    CostPerMinute,
    /// Share of the retries asked to wait (`retry-after`) that waited at least as asked.
    RetryAfterCompliance,
    /// Share of the retries asked to wait whose wait came within tolerance of the ask.
    RetryAfterHonoured,
    /// Share of logical requests whose generation the upstream answered with a 2xx more than once.
    DuplicateRate,
    /// Seconds from a faulted phase's start until another upstream than the primary served
    /// (infinite when none did); phases only.
    TimeToFailover,
    /// Seconds from the start of the phase after faults at the primary until it is back at the
    /// baseline for good (infinite when it never is); phases only.
    TimeToRecover,
    /// A latency quantile in seconds; `quantile: 1.0` is the maximum.
    Latency { quantile: f64, basis: LatencyBasis },
}

impl Metric {
    /// Whether a halt condition can watch the metric as the run goes: the live figures keep
    /// latency and TTFT percentiles, ratios and costs over trailing windows; the rest are only
    /// known once a run's requests have settled.
    pub fn watchable_live(self) -> bool {
        match self {
            Metric::Latency { basis, .. } => matches!(basis, LatencyBasis::Latency | LatencyBasis::Ttft),
            Metric::BudgetSpent
            | Metric::CostMultiplier
            | Metric::RetryAfterCompliance
            | Metric::RetryAfterHonoured
            | Metric::DuplicateRate
            | Metric::TimeToFailover
            | Metric::TimeToRecover => false,
            _ => true,
        }
    }
}

/// How the observed value must compare with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Comparison {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
}

/// One parsed expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Expectation {
    /// The expression as written.
    pub text: String,
    /// What it measures.
    pub metric: Metric,
    /// Index of the phase it is about; `None` means the whole run. Not in `results.json` (the
    /// check names the phase), so `None` in an expectation read back from one.
    #[serde(skip)]
    pub phase: Option<usize>,
    /// The upstream it is narrowed to (`upstream=NAME`, with `retry_gap` only); `None` for all.
    #[serde(default)]
    pub upstream: Option<String>,
    /// How the observed value must compare with the threshold.
    pub op: Comparison,
    /// In the metric's base unit: a fraction, seconds, or a plain ratio.
    pub threshold: f64,
}

impl Comparison {
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Comparison::Lt => observed < threshold,
            Comparison::Le => observed <= threshold,
            Comparison::Gt => observed > threshold,
            Comparison::Ge => observed >= threshold,
            Comparison::Eq => (observed - threshold).abs() <= 1e-9 * threshold.abs().max(1.0),
        }
    }
}

/// Fewer logical requests than this in an expectation's window make it inconclusive.
pub const MIN_EVENTS: u64 = 20;
