//! Figures per key of a target's key pool (`target.keys_env`, `keys_file`): what the requests
//! presenting each key got. A key is named by its environment variable or its line in the key
//! file, and a short SHA-256 fingerprint; its value is never written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Percentiles;

/// The requests that presented one key of the pool, over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyFigures {
    /// The environment variable the key came from (`TEAM_A_KEY`), or `key-<line>` of the key
    /// file.
    pub name: String,
    /// `sha256:` and the first 8 hex digits of the key's SHA-256: enough to tell keys apart and
    /// to match one you hold, never enough to recover it.
    pub fingerprint: String,
    /// Logical requests that presented it (request `id` presents key `id % n`).
    pub logical_requests: u64,
    /// Of those, answered with success.
    pub successes: u64,
    /// Of those, not (unfinished ones included).
    pub failures: u64,
    /// Successes ÷ logical requests, a fraction (0–1); `None` when there were none.
    pub availability: Option<f64>,
    /// Requests whose final answer was a 429 (a rate limit or quota on the key).
    pub http_429: u64,
    /// Latency from the intended start, milliseconds, over requests that got an answer.
    pub latency_ms: Option<Percentiles>,
    /// Requests by how they ended (`ok`, `http_429`, `timeout`, …).
    pub outcomes: BTreeMap<String, u64>,
}
