//! How long a server waits for its clients and how many it holds at once: the header-read
//! timeout, the idle keep-alive timeout and the cap on open connections, with their defaults
//! (the cap read from the process's descriptor limit), and the counts of what they did (with
//! the connections a byte-level path handed to hyper), shared by every shard of one server.
//!
//! The timeouts apply only while the server waits for its client (see [`super::watchdog`]): a
//! request in flight — a `latency` fault's wait, a `hang`, a slow stream — is never cut by them.

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

/// The header-read timeout unless told otherwise: hyper's and Go's `ReadHeaderTimeout` order.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The idle keep-alive timeout unless told otherwise. Longer than the connection pools of the
/// common clients keep an idle connection (Go 90 s, aiohttp 15 s, httpx 5 s), so the client
/// drops it first: a server that closed first would race the client's next request on it, and
/// the harness would measure its own close as the gateway's failure.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Descriptors kept out of the cap's reach: listeners, files being written, the run's own.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The cap when the descriptor limit cannot be read, and the least it is ever set to.
const FALLBACK_MAX_CONNECTIONS: usize = 1024;
const LEAST_MAX_CONNECTIONS: usize = 64;

/// How a server treats its clients' connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's head must have come whole within this of its first byte (of the
    /// connection's opening, for its first request); else the connection is closed, with a 408
    /// when part of a head came.
    pub header_timeout: Duration,
    /// A connection with no request in flight and no byte of a next one is closed after this.
    pub idle_timeout: Duration,
    /// Connections open at once, at most; one more is shed (a 503 with `Connection: close`).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: default_max_connections(),
        }
    }
}

/// The process's soft limit on open descriptors (`RLIMIT_NOFILE`), when it can be read.
pub fn descriptor_limit() -> Option<u64> {
    let (soft, _hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok()?;
    Some(soft)
}

/// The default cap: half of what the descriptor limit leaves after a reserve, since each
/// connection may hold a second descriptor (an interposer's to its upstream; in `chaos run`,
/// the load generator's own connection to the target), so a server at its cap never meets
/// "too many open files".
pub fn default_max_connections() -> usize {
    descriptor_limit().map_or(FALLBACK_MAX_CONNECTIONS, |limit| {
        let share = limit.saturating_sub(RESERVED_DESCRIPTORS) / 2;
        usize::try_from(share).unwrap_or(usize::MAX).max(LEAST_MAX_CONNECTIONS)
    })
}

/// What the limits did to one server's connections so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionCounts {
    /// Connections open now.
    pub open: u64,
    /// New connections turned away at the cap.
    pub shed: u64,
    /// Connections closed because a request's head did not come in time.
    pub header_timeouts: u64,
    /// Connections closed after sitting idle between requests.
    pub idle_timeouts: u64,
    /// Connections a byte-level path ([`super::Front`]) handed to hyper, for what it does not
    /// speak (h2c, `Expect`, HTTP/1.0, a throttled answer).
    pub handed_over: u64,
}

/// Why a connection was closed while the server waited for its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// A request's head (or, on a new connection, anything) did not come in time.
    Header,
    /// Nothing came after the last answer.
    Idle,
}

/// One server's limits and the counts of what they did, shared by its shards.
#[derive(Debug)]
pub struct ConnectionGate {
    pub limits: ConnectionLimits,
    open: AtomicUsize,
    shed: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    handed_over: AtomicU64,
}

impl ConnectionGate {
    pub fn new(limits: ConnectionLimits) -> Self {
        ConnectionGate {
            limits,
            open: AtomicUsize::new(0),
            shed: AtomicU64::new(0),
            header_timeouts: AtomicU64::new(0),
            idle_timeouts: AtomicU64::new(0),
            handed_over: AtomicU64::new(0),
        }
    }

    /// Takes a place for a new connection, held until the returned slot goes; `None` (and the
    /// connection counted as shed) when the cap is reached.
    pub fn admit(self: &Arc<Self>) -> Option<OpenSlot> {
        let cap = self.limits.max_connections;
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| (open < cap).then_some(open + 1));
        match taken {
            Ok(_) => Some(OpenSlot { gate: Arc::clone(self) }),
            Err(_) => {
                self.shed.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Counts a connection closed while the server waited for its client.
    pub fn expired(&self, expiry: Expiry) {
        let counter = match expiry {
            Expiry::Header => &self.header_timeouts,
            Expiry::Idle => &self.idle_timeouts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> ConnectionCounts {
        ConnectionCounts {
            open: self.open.load(Ordering::Relaxed) as u64,
            shed: self.shed.load(Ordering::Relaxed),
            header_timeouts: self.header_timeouts.load(Ordering::Relaxed),
            idle_timeouts: self.idle_timeouts.load(Ordering::Relaxed),
            handed_over: self.handed_over.load(Ordering::Relaxed),
        }
    }
}

/// A connection's place under the cap, given back when it goes.
#[derive(Debug)]
pub struct OpenSlot {
    gate: Arc<ConnectionGate>,
}

impl OpenSlot {
    /// Counts this connection as handed to hyper by its byte-level path.
    pub fn handed_over(&self) {
        self.gate.handed_over.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_connections: usize) -> Arc<ConnectionGate> {
        Arc::new(ConnectionGate::new(ConnectionLimits { max_connections, ..ConnectionLimits::default() }))
    }

    #[test]
    fn the_cap_sheds_one_more_and_a_closed_connection_frees_its_place() {
        let gate = gate(2);
        let first = gate.admit().expect("under the cap");
        let _second = gate.admit().expect("at the cap");
        assert!(gate.admit().is_none(), "over the cap");
        assert_eq!(gate.counts(), ConnectionCounts { open: 2, shed: 1, ..ConnectionCounts::default() });
        drop(first);
        assert!(gate.admit().is_some(), "a place came free");
        assert_eq!(gate.counts().shed, 1);
    }

    #[test]
    fn expiries_are_counted_by_kind() {
        let gate = gate(1);
        gate.expired(Expiry::Header);
        gate.expired(Expiry::Idle);
        gate.expired(Expiry::Idle);
        assert_eq!((gate.counts().header_timeouts, gate.counts().idle_timeouts), (1, 2));
    }

    #[test]
    fn the_default_cap_stays_under_the_descriptor_limit() {
        let limit = descriptor_limit().expect("readable here");
        let cap = default_max_connections() as u64;
        if limit > 2 * LEAST_MAX_CONNECTIONS as u64 + RESERVED_DESCRIPTORS {
            assert!(cap * 2 + RESERVED_DESCRIPTORS <= limit, "{cap} of {limit}");
            assert!(cap * 2 + RESERVED_DESCRIPTORS + 2 > limit, "not far under either: {cap} of {limit}");
        }
    }
}
