//! Figures for one window of a run (a phase, or the whole run), as `results.json` holds them:
//! counts, rates, latency percentiles and spectra, SLO burn and paging, who served and what it
//! cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::metrics::{Percentiles, SpectrumPoint, SPECTRUM_QUANTILES};

/// How attempts were attributed to a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JoinMethod {
    /// Every attempt carried its logical request's correlation id.
    Correlation,
    /// No attempt did; attempts count in the phase active when they arrived.
    PhaseWindow,
    /// Some did, some did not.
    Mixed,
    /// There were no attempts.
    None,
}

/// Figures for one window of the run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Figures {
    /// The phase's name, or `overall` for the whole run.
    pub name: String,
    /// When the window starts, seconds from the run's start.
    pub start_s: f64,
    /// How long the window lasts, seconds.
    pub duration_s: f64,
    /// Requests the load sent, by intended start within the window.
    pub logical_requests: u64,
    /// Logical requests answered with success.
    pub successes: u64,
    /// Logical requests that did not succeed, unfinished ones included.
    pub failures: u64,
    /// Attempts of the window's logical requests that reached an interposer.
    pub attempts: u64,
    /// Attempts that reached an interposer carrying no logical request's correlation id, in a
    /// run whose target forwards ids: the target's own (health checks, warm-ups), counted apart
    /// from every other figure.
    #[serde(default)]
    pub uncorrelated_attempts: u64,
    /// What those uncorrelated attempts cost, US dollars, at the same prices (paid for, in no
    /// other figure); `None` when there were none or a model had no price.
    #[serde(default)]
    pub uncorrelated_cost_usd: Option<f64>,
    /// Attempts a fault answered.
    pub injected: u64,
    /// Attempts whose event stream ended without its terminator (cut, or abandoned).
    pub incomplete_streams: u64,
    /// Successes ÷ logical requests, a fraction (0–1); `None` when there were none.
    pub availability: Option<f64>,
    /// Failures ÷ logical requests, a fraction (0–1); `None` when there were none.
    pub error_rate: Option<f64>,
    /// Attempts per logical request; `None` when no attempt reached an interposer.
    pub retry_amplification: Option<f64>,
    /// From the intended start (coordinated-omission-correct), milliseconds, over every
    /// request that got an answer, good or bad (unfinished ones have no latency).
    pub latency_ms: Option<Percentiles>,
    /// From the actual send, milliseconds.
    pub service_time_ms: Option<Percentiles>,
    /// Time to the final answer's head from the intended start, milliseconds.
    pub ttfb_ms: Option<Percentiles>,
    /// Time to the first token from the intended start (retries and waits included),
    /// milliseconds, over answers that had a token.
    pub ttft_ms: Option<Percentiles>,
    /// Inter-token gaps of streamed answers, milliseconds.
    pub itl_ms: Option<Percentiles>,
    /// Each streamed answer's longest gap between tokens, milliseconds.
    pub stall_ms: Option<Percentiles>,
    /// Latency from the intended start at every quantile of the HDR spectrum
    /// ([`crate::metrics::SPECTRUM_QUANTILES`]), milliseconds; empty without answers.
    #[serde(default)]
    pub latency_spectrum: Vec<SpectrumPoint>,
    /// The same for the service time (from the actual send).
    #[serde(default)]
    pub service_time_spectrum: Vec<SpectrumPoint>,
    /// Output tokens of the final answers, as their `usage` said (or counted when cut).
    pub output_tokens: u64,
    /// Logical requests by how they ended (`ok`, `http_503`, `timeout`, …).
    pub outcomes: BTreeMap<String, u64>,
    /// Attempts by how they ended (`200`, `429`, `unreachable`, `cancelled`).
    pub attempt_statuses: BTreeMap<String, u64>,
    /// Of those, the attempts a fault answered (the rest are the upstreams' own answers).
    #[serde(default)]
    pub injected_statuses: BTreeMap<String, u64>,
    /// How attempts were attributed to the window.
    pub join: JoinMethod,
    /// How fast the window burnt the SLO's error budget: its bad ratio ÷ (1 − objective), over
    /// finished requests (see [`slo`] for what counts as good and bad); 1 spends the budget
    /// exactly over the SLO's period.
    pub burn_rate: Option<f64>,
    /// The fraction of the period's error budget the window spent: burn rate × its duration ÷
    /// the period.
    pub budget_spent: Option<f64>,
    /// Whole run only: the highest burn rate over any 5-minute window ending within the run.
    pub peak_burn_rate_5m: Option<f64>,
    /// Whole run only: whether the multiwindow paging rules would have fired.
    pub paging: Option<Paging>,
    /// Successful (2xx) attempts by upstream: who actually served.
    pub served_by: BTreeMap<String, u64>,
    /// Share (a fraction, 0–1) of the successful attempts served by an upstream other than the primary (the
    /// built-in target's `upstream`, else the first upstream listed).
    pub fallback_rate: Option<f64>,
    /// Tokens billed to the attempts — failed and cut ones too — as their answers' `usage`
    /// reported, or estimated where it did not (`output_tokens` above counts the final answers).
    #[serde(default)]
    pub billed_input_tokens: u64,
    /// Output tokens billed to the attempts, as for `billed_input_tokens`.
    #[serde(default)]
    pub billed_output_tokens: u64,
    /// Share of the billed tokens that were estimated, a fraction (0–1).
    pub estimated_token_share: Option<f64>,
    /// What the attempts cost, US dollars; `None` when an attempt could not be priced or none
    /// reached an interposer.
    pub cost_usd: Option<f64>,
    /// Cost per logical request, US dollars.
    pub cost_per_request_usd: Option<f64>,
    /// Cost per request ÷ the baseline's (the first phase); `None` for the baseline itself.
    pub cost_multiplier: Option<f64>,
    /// Attempts billed tokens that could not be priced (a model without a price, or tokens not
    /// known).
    #[serde(default)]
    pub unpriced_attempts: u64,
    /// Retries asked to wait: attempts that followed, at the same upstream and for the same
    /// logical request (joined by correlation id), an answer carrying `retry-after-ms` or
    /// `retry-after` (see `methods.retry_after_compliance`).
    #[serde(default)]
    pub retries_asked_to_wait: u64,
    /// Share (a fraction, 0–1) of the retries asked to wait that arrived at the interposer at
    /// least the asked wait after the asking answer ended there; `None` when none was asked.
    pub retry_after_compliance: Option<f64>,
    /// Share (a fraction, 0–1) of the retries asked to wait whose wait came within tolerance of
    /// the ask, either side: `max(10 % of the ask, 250 ms)` (see `methods.retry_after_honoured`);
    /// `None` when none was asked. With the two below it sums to 1.
    #[serde(default)]
    pub retry_after_honoured: Option<f64>,
    /// Share of them that waited longer than the ask plus the tolerance.
    #[serde(default)]
    pub retry_after_longer: Option<f64>,
    /// Share of them that waited less than the ask less the tolerance.
    #[serde(default)]
    pub retry_after_shorter: Option<f64>,
    /// Gaps between consecutive attempts of one logical request (joined by correlation id),
    /// milliseconds: from the earlier attempt's answer end to the later one's arrival, both at
    /// the interposers (see `methods.retry_gap`); `None` when no request was tried twice.
    #[serde(default)]
    pub retry_gap_ms: Option<Percentiles>,
    /// The same by the upstream the later attempt went to.
    #[serde(default)]
    pub retry_gap_ms_by_upstream: BTreeMap<String, Percentiles>,
    /// Logical requests (joined by correlation id) that reached another upstream after the one
    /// they started at failed them.
    #[serde(default)]
    pub failovers: u64,
    /// For each of those, milliseconds from its first failed answer at the upstream it started
    /// at to the arrival of its first attempt at another upstream (see `methods.failover`).
    #[serde(default)]
    pub failover_ms: Option<Percentiles>,
    /// Logical requests (joined by correlation id) whose attempts got more than one 2xx from
    /// the upstream itself: generation paid for more than once (see `methods.duplicate_calls`).
    #[serde(default)]
    pub duplicate_requests: u64,
    /// Duplicate requests ÷ logical requests, a fraction (0–1); `None` when there were none.
    pub duplicate_rate: Option<f64>,
    /// Time to fail over and time to recover (phases only; see [`transitions`]).
    #[serde(flatten, default)]
    pub transitions: Transitions,
}

/// Would the paging rules have fired, and what filled the time before the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Paging {
    /// The phase whose rates filled the windows before the run; `None` when the first phase
    /// injected faults and the time before the run was taken as clean.
    pub baseline: Option<String>,
    /// The events per second assumed before the run.
    pub fill: Fill,
    /// One per rule: `1h/5m` (BR 14.4) and `6h/30m` (BR 6).
    pub rules: Vec<PageCheck>,
    /// Whether any rule would have paged.
    pub paged: bool,
}

/// What one paging rule would have done during the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageCheck {
    /// `1h/5m` or `6h/30m`.
    pub rule: String,
    /// The long window, seconds.
    pub long_window_s: u64,
    /// The short window that confirms it, seconds.
    pub short_window_s: u64,
    /// The burn rate at which the rule pages.
    pub threshold: f64,
    /// The highest burn rate both windows reached at once (the lower of the two, at its
    /// highest over the run); the rule pages when it reaches `threshold`.
    pub peak_burn_rate: Option<f64>,
    /// Whether the rule would have paged.
    pub paged: bool,
    /// Seconds from the run's start to the end of the second it would first have paged.
    pub first_page_at_s: Option<u64>,
}

/// Events per second assumed for the time before the run, where a window reaches back past it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fill {
    /// Good events per second.
    pub good_per_s: f64,
    /// Bad events per second.
    pub bad_per_s: f64,
}

/// The transition figures of one phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Transitions {
    /// Whether another upstream than the primary served a request of this phase (by its
    /// intended start, wherever its fallback landed) while the phase's faults hit the primary;
    /// `None` when the phase injects nothing at the primary (or for the whole run).
    pub failed_over: Option<bool>,
    /// Seconds from the phase's start to the arrival at the interposer of the first attempt, of a
    /// request of this phase, that an upstream other than the primary answered with a 2xx of its
    /// own (microsecond resolution; results written before schema v2 had whole seconds). `None`
    /// when it did not fail over, or does not apply. How long each request took to move is
    /// `failover_ms`.
    pub time_to_failover_s: Option<f64>,
    /// Whether this phase, the first after faults at the primary ended, got back to the
    /// baseline's success ratio and primary share for good; `None` when it is not such a phase.
    pub recovered: Option<bool>,
    /// Seconds from the phase's start to the end of the first second from which on every second
    /// of the phase is back at the baseline (success ratio of requests by intended start, and
    /// the primary's share of 2xx answers, each within three binomial standard errors): 1 s
    /// resolution, an upper bound. `None` when it did not recover, or does not apply.
    pub time_to_recover_s: Option<f64>,
}

impl Transitions {
    /// Time to fail over as an expectation sees it: infinite when it never happened.
    pub fn time_to_failover(&self) -> Option<f64> {
        measured(self.failed_over, self.time_to_failover_s)
    }

    /// Time to recover as an expectation sees it: infinite when it never happened.
    pub fn time_to_recover(&self) -> Option<f64> {
        measured(self.recovered, self.time_to_recover_s)
    }
}

fn measured(happened: Option<bool>, after_s: Option<f64>) -> Option<f64> {
    match happened? {
        true => after_s,
        false => Some(f64::INFINITY),
    }
}
