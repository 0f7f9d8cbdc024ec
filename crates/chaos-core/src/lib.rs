//! `chaos-core`: the vocabulary every floor of `chaos` speaks, and nothing that runs.
//!
//! - [`units`] — human units (`250ms`, `20/s`, `99.9%`, `0.15/M`) and how a schema spells them;
//!   [`speed`] — `--speed F`, the time scale a plan can be played at; [`located`] — an error at
//!   a YAML line and column; [`loopback`] — the rule every address is checked by.
//! - [`wire`] — the providers' wire formats: SSE, usage, retry-after, canned answers.
//! - [`results`] — the results contract: every type `results.json` holds, its schema version,
//!   its JSON Schema and the test that keeps a released version frozen.
//! - [`metrics`] — the records the runtime writes, the run clock, the aggregates folded from
//!   records; [`ratelimit`] — provider-style token buckets.
//!
//! `ARCHITECTURE.md` (at the repository's root) draws the floors above it.
#![forbid(unsafe_code)]

pub mod located;
pub mod loopback;
pub mod metrics;
pub mod ratelimit;
pub mod results;
pub mod speed;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod units;
pub mod wire;

#[cfg(test)]
use testing as test_support;
