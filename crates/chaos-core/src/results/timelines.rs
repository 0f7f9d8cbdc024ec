//! The run second by second, as `results.json` holds it for the report's charts: finished
//! requests, the attempts at the interposers by upstream and cause, and the rolling burn rates.

use serde::{Deserialize, Serialize};

pub use crate::metrics::timeline::Second;

/// Attempts of one kind within a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptCount {
    /// The upstream's name in the scenario.
    pub upstream: String,
    /// How the attempts ended: a status (`200`, `429`), `unreachable`, `cancelled` or `aborted`.
    pub status: String,
    /// Whether a fault answered them, rather than the upstream.
    pub injected: bool,
    pub count: u64,
}

/// The attempts that reached an interposer within one second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptsSecond {
    /// Seconds since the run started, by arrival at the interposer.
    pub second: u64,
    /// By upstream, status and cause; kinds with no attempts are left out.
    pub attempts: Vec<AttemptCount>,
    /// What they were billed, US dollars; `None` when one could not be priced.
    pub cost_usd: Option<f64>,
}

/// The rolling burn rates the paging rules watch, at the end of one second of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BurnSecond {
    /// The second the windows end with (they end when it ends), from the run's start.
    pub second: u64,
    /// Over the last 5 minutes (the fast rule's short window; it pages at 14.4 with the hour).
    pub burn_rate_5m: Option<f64>,
    /// Over the last hour (the fast rule's long window).
    pub burn_rate_1h: Option<f64>,
    /// Over the last 30 minutes (the slow rule's short window; it pages at 6 with 6 hours).
    pub burn_rate_30m: Option<f64>,
    /// Over the last 6 hours (the slow rule's long window).
    pub burn_rate_6h: Option<f64>,
}
