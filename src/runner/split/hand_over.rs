//! What a load shard and the upstreams role say to each other, as JSON: the check-in, the start
//! instant, and the shard's records once its load has drained.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{load::GeneratorParts, metrics::LogicalRecord};

/// A shard's check-in: which split it belongs to and which scenario it plays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    /// N, the number of shards the shard was told of.
    pub count: u32,
    /// The scenario's digest ([`super::scenario_digest`]).
    pub scenario: String,
}

/// The desk's answer to a check-in: the start instant once every shard has checked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartAt {
    /// Milliseconds since the Unix epoch; `None` while shards are missing.
    pub start_at_unix_ms: Option<u64>,
    /// Shards not yet checked in.
    pub waiting_for: u32,
}

/// Everything a shard measured: its logical requests, their inter-token gaps and its
/// generator's account. Times are offsets on its run clock, which started at the start instant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRecords {
    pub index: u32,
    pub count: u32,
    pub logical: Vec<LogicalRecord>,
    pub token_gaps: Vec<(Duration, Vec<u32>)>,
    pub generator: GeneratorParts,
    /// Whether the shard was stopped (Ctrl-C, SIGTERM) before its load's end: its records are
    /// then part of its share, and the run is invalid.
    pub interrupted: bool,
}
