//! A split run: the roles of one run on several machines (issue 28). The **upstreams role**
//! (`--role upstreams --shards N`) serves the mocks and interposers on their `listen:`
//! addresses, plays the phases and keeps every attempt; N **load shards** (`--role load --shard
//! K/N --coordinator URL`) each drive 1/N of the load through the target. The upstreams role is
//! the coordinator: its desk ([`desk`]), on the `--control` address, takes each shard's check-in
//! and gives them all one start instant once all N have checked in, then takes each shard's
//! records ([`hand_over`]) when its load has drained; it folds them with its attempts, joined by
//! correlation id with each shard's ids apart (`Aggregate::striped`), and writes the one
//! `results.json`, report and verdict. A shard ([`load_role`]) writes nothing of its own.
//!
//! Clocks: both sides start their run clock at the same wall-clock instant; a request's phase
//! is its intended start on its shard's clock, and attempts are joined to requests by id, so
//! only the interposers' phase switches depend on the machines' clocks agreeing (NTP's few ms).
//!
//! What a split run does not do yet: the control API's live faults, skips and stops, halts and
//! `abort_on_fail` (they read figures as the run goes, and a split run's requests arrive at the
//! end), the preflight, and a `command` target.

pub mod desk;
pub mod desk_client;
pub mod hand_over;
pub mod load_role;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which part of a run this process plays.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Role {
    /// All of it: mocks, interposers, load and results (no `--role`).
    #[default]
    Whole,
    /// The mocks, interposers and phases, the coordinator of `shards` load shards.
    Upstreams { shards: u32 },
    /// One shard of the load, coordinated by the upstreams role at `coordinator` (its desk's
    /// base URL, `http://host:port`).
    Load { coordinator: String },
}

/// How long the upstreams role and each shard wait for every shard to check in.
pub const CHECK_IN_WAIT: Duration = Duration::from_secs(600);

/// Load shards that never checked in: the run did not start (exit 3).
#[derive(Debug)]
pub struct ShardsMissing {
    pub missing: Vec<u32>,
    pub shards: u32,
}

impl std::fmt::Display for ShardsMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> =
            self.missing.iter().map(|index| format!("{index}/{}", self.shards)).collect();
        write!(
            f,
            "load shard(s) {} never checked in within {}s: nothing was run",
            names.join(", "),
            CHECK_IN_WAIT.as_secs()
        )
    }
}

impl std::error::Error for ShardsMissing {}

/// How long after the last shard checks in the run starts: time for every shard to hear it.
pub const START_DELAY: Duration = Duration::from_secs(2);

/// How long the upstreams role waits, after its own drain, for the shards' records: the
/// shards' own drain (they hand over once it is done) and time to send.
pub fn records_wait(plan: &crate::scenario::Plan) -> Duration {
    plan.load.drain + HAND_OVER_SLACK
}

/// The time a shard has, after its drain, to hand its records over.
pub const HAND_OVER_SLACK: Duration = Duration::from_secs(20);

/// Milliseconds since the Unix epoch of `at`.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// Sleeps until the wall-clock instant `unix_ms`.
pub async fn sleep_until_unix_ms(unix_ms: u64) {
    let at = UNIX_EPOCH + Duration::from_millis(unix_ms);
    if let Ok(wait) = at.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
}

/// A short fingerprint of the scenario's text: the shards and the upstreams role must play one
/// scenario (FNV-1a, 64 bits, as hex).
pub fn scenario_digest(source: &str) -> String {
    let hash = source.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}
