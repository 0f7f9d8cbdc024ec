//! `chaos-runtime`: what plays a plan against a target, recording as it goes and judging
//! nothing.
//!
//! - [`net`] — the shared HTTP serve loop (on one task, or sharded over a current-thread
//!   runtime per CPU for the standalone servers), the byte-level HTTP/1 client, body helpers,
//!   and the wrappers that play a stream fault's or a bandwidth's decision.
//! - [`mock`] — built-in provider mocks (OpenAI, Anthropic).
//! - [`proxy`] — the interposer that applies a fault timeline between a target and an upstream.
//! - [`load`] — the schedule, the pacer, the load threads, the SDK-like client.
//! - [`target`] — `url` and `command` targets: filling templates, the process group.
//!
//! They are one crate because they are one chain (`target → load → proxy → mock → net`): cut
//! apart, they would build one after another all the same.
#![forbid(unsafe_code)]

pub mod load;
pub mod mock;
pub mod net;
pub mod proxy;
pub mod target;

// The floors below, under the names this crate's code uses for them.
use chaos_core::{loopback, metrics, ratelimit, results, speed, units, wire};
use chaos_fault as fault;
use chaos_scenario as scenario;
