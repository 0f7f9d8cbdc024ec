//! The largest counts a scenario may name, in one table: sizes the harness holds in memory
//! (keys, burst requests, phases × upstreams, users, requests in flight) and numbers beyond which
//! a value can only be a typo. Each is checked where it is read, the error at its line and
//! column; `docs/scenarios.md` lists them with their reasons. (Token counts are bounded by the
//! providers' own limits, `crate::wire::tokens`; rates and durations by their units.)

/// API keys of one mock upstream (`keys: N`), and keys in a target's pool (`keys_env`,
/// `keys_file`): each gets its own figures in the results and the report.
pub const KEYS: u32 = 1_000;
/// Closed-model `users`, and `requests` in one burst: each is a task or a start held at once.
pub const AT_ONCE: u32 = 100_000;
/// `requests` over all bursts together: each burst start is held from the first instant.
pub const BURST_REQUESTS: u64 = 1_000_000;
/// `max_in_flight` and `connections`: each request in flight holds a socket.
pub const IN_FLIGHT: u64 = 100_000;
/// Phases: every phase holds a fault chain for every upstream.
pub const PHASES: usize = 1_000;
/// Upstreams: each is a mock and an interposer, with a chain in every phase.
pub const UPSTREAMS: usize = 100;
/// A mock's `tokens_per_second`: from one an hour to a million a second, the same bounds as
/// the load's rates (`crate::units::MIN_RATE`, `MAX_RATE`).
pub const TOKENS_PER_SECOND: std::ops::RangeInclusive<f64> = crate::units::MIN_RATE..=crate::units::MAX_RATE;
