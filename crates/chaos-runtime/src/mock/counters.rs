//! What a mock received: requests, answers by status, and tokens, per key and model. Keys are
//! identified by their index in the mock's key list (`key-0`, …), never by their value.

pub use crate::results::{CountsRow, Tally};

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

/// Counts keyed by (key id, model). Requests that failed authentication count under
/// `unauthenticated`; requests with no readable model under `-`; requests a fault hung up on or
/// reset (no answer at all) under status 0.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    tallies: Arc<Mutex<BTreeMap<(String, String), Tally>>>,
}

/// The key id used in counts and records for key number `index`.
pub fn key_id(index: Option<usize>) -> String {
    index.map_or_else(|| "unauthenticated".to_owned(), |i| format!("key-{i}"))
}

impl Counters {
    /// Counts one answered request.
    pub fn count(&self, key: &str, model: &str, status: u16, prompt_tokens: u64, output_tokens: u64) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let tally = tallies.entry((key.to_owned(), model.to_owned())).or_default();
        tally.requests += 1;
        *tally.statuses.entry(status).or_insert(0) += 1;
        tally.prompt_tokens += prompt_tokens;
        tally.output_tokens += output_tokens;
    }

    /// A copy of the counts so far.
    pub fn snapshot(&self) -> BTreeMap<(String, String), Tally> {
        self.tallies.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The counts as JSON: `{"counts": [{"key", "model", "requests", "statuses", …}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<CountsRow> = self
            .snapshot()
            .into_iter()
            .map(|((key, model), tally)| CountsRow { tally, key, model })
            .collect();
        serde_json::json!({ "counts": serde_json::to_value(rows).unwrap_or_default() })
    }

    /// Total requests with a given status, over all keys and models.
    pub fn with_status(&self, status: u16) -> u64 {
        self.snapshot().values().map(|t| t.statuses.get(&status).copied().unwrap_or(0)).sum()
    }

    /// Total requests, over all keys and models.
    pub fn requests(&self) -> u64 {
        self.snapshot().values().map(|t| t.requests).sum()
    }
}
