//! The runs a merged document is made of (`chaos merge`).

use serde::{Deserialize, Serialize};

use super::{Environment, Verdict};

/// One run a merged document is made of.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MergedRun {
    /// Its `results.json`, as given to `chaos merge`.
    pub file: String,
    /// When it started, RFC 3339, UTC.
    pub started_at: String,
    /// Wall time it took, seconds.
    pub elapsed_s: f64,
    /// Logical requests it sent.
    pub logical_requests: u64,
    /// Its own verdict.
    pub verdict: Verdict,
    /// Where it ran.
    pub environment: Environment,
    /// The shard of the scenario's load it played, if it played one (`--shard K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::ShardOf>,
}
