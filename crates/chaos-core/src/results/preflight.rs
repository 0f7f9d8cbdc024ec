//! What the preflight found: the probe requests sent through a gateway target before the clock
//! started, and whether each reached an interposer (a target that goes around them is never
//! measured: the run stops before it starts).

use serde::{Deserialize, Serialize};

/// The preflight of a `url` or `command` target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Preflight {
    /// Probe requests sent through the target.
    pub probes: u64,
    /// Of those, the ones an interposer saw.
    pub reached: u64,
    /// The upstreams whose interposers saw them, by name, in the scenario's order.
    pub reached_upstreams: Vec<String>,
    /// Whether the probes arrived carrying their correlation id (`x-chaos-request-id`). When
    /// not, the target drops it: each attempt counts in the phase it arrived in, and retries
    /// cannot be joined to their requests.
    pub ids_forwarded: bool,
    /// Seconds it took, before the clock started.
    pub took_s: f64,
}
