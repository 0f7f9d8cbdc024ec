//! What each mock upstream received, by key and model (a `url` upstream, a real provider,
//! names its base URL instead), and the price each billed model was charged at.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire::ApiFamily;

/// Tallies for one key and model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tally {
    /// Requests received.
    pub requests: u64,
    /// Answers by HTTP status (0: hung up on or reset, no answer at all).
    #[serde(deserialize_with = "statuses")]
    pub statuses: BTreeMap<u16, u64>,
    /// Prompt tokens of the requests, estimated (see `wire/tokens.rs`).
    pub prompt_tokens: u64,
    /// Output tokens the mock generated.
    pub output_tokens: u64,
}

impl Tally {
    /// Adds another tally's counts.
    pub fn merge(&mut self, other: &Tally) {
        self.requests += other.requests;
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_insert(0) += count;
        }
        self.prompt_tokens += other.prompt_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// One row of the counts: a key and model, and their tallies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CountsRow {
    #[serde(flatten)]
    pub tally: Tally,
    /// `key-<index>`, or `unauthenticated`.
    pub key: String,
    /// The requests' model, or `-` when none was readable.
    pub model: String,
}

/// The price one model was charged at in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedPrice {
    /// A model the attempts were billed for.
    pub model: String,
    /// Input tokens' price, US dollars per million tokens; `None` for a model without a price.
    pub input_usd_per_million: Option<f64>,
    /// Output tokens' price, US dollars per million tokens; `None` for a model without a price.
    pub output_usd_per_million: Option<f64>,
    /// `scenario`, or the default table's source and date; `None` without a price.
    pub source: Option<String>,
}

/// What one mock upstream received, per key and model (keys by index, never by value).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UpstreamCounts {
    /// The upstream's name in the scenario.
    pub name: String,
    /// The API family it speaks, by its scenario name (`openai`, `anthropic`, `azure` …): a
    /// string in the schema, so a family added later writes the same schema version.
    #[schemars(with = "String")]
    pub family: ApiFamily,
    /// The upstream's `zone:`, if it has one.
    pub zone: Option<String>,
    /// A `url` upstream's base URL (a real provider; never a key); absent for a mock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// One row per key and model, as the mock counted; empty for a `url` upstream, whose
    /// attempts are the interposer's records only.
    #[schemars(with = "Vec<CountsRow>")]
    pub received: serde_json::Value,
}

/// Statuses read back from JSON object keys: done by hand, as serde cannot read integer keys
/// inside a flattened struct.
fn statuses<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<u16, u64>, D::Error> {
    BTreeMap::<String, u64>::deserialize(deserializer)?
        .into_iter()
        .map(|(status, count)| {
            status
                .parse()
                .map(|status| (status, count))
                .map_err(|_| serde::de::Error::custom(format!("status `{status}`")))
        })
        .collect()
}
