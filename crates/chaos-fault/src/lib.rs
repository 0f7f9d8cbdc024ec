//! `chaos-fault`: faults as pure decisions: each fault looks at a request and says what to do
//! (pass, delay, respond); the runtime that holds it (the interposer, or a mock) does the
//! sleeping and the writing. A [`Chain`] applies rules in order with seeded dosing.
//!
//! One file per fault, each with its raw YAML form, its checks, its scaling, its decisions and
//! its unit tests, implementing [`Fault`]; one line in the `faults!` table below adds it to
//! [`FaultAction`], to what a scenario may name, and to the JSON Schema of scenarios.

#![forbid(unsafe_code)]

#[macro_use]
mod generate;

pub mod chain;
mod delay;
mod dose;
mod event_scope;
mod kind;
mod matcher;
mod raw;
mod scale;

pub use chain::{Chain, ChainDecision, FaultRule};
pub use cut::RawAfterEvents;
pub use delay::{DelayDistribution, RawLatency, MAX_DELAY};
pub use dose::Dose;
pub use drop_event::DroppedEvent;
pub use event_scope::EventScope;
pub use inject::{Injected, RawInject};
pub use kind::{Fault, FaultContext};
pub use matcher::Matcher;
pub use rate_limit::RawRateLimit;
pub use raw::{RawFault, RawMatch};
pub use stall::RawStall;

pub use status::supported_statuses;

use std::time::Duration;

use bytes::Bytes;
use rand::rngs::StdRng;
use serde::de::MapAccess;
use serde_saphyr::{Location, Spanned};

// The floors below, under the names this crate's code uses for them.
use chaos_core::{located, ratelimit, speed, units, wire};

use crate::{
    located::Checked,
    speed::Speed,
    wire::{sse_split::SseEvent, CannedResponse},
};

// The registry: every fault a scenario can name, one line each (`module::Type => Variant`),
// in the order errors list them. The macro declares the module, re-exports the type, and writes
// `FaultAction` with its dispatch and the reading of a rule's keys.
faults! {
    status::StatusFault => Status,
    latency::LatencyFault => Latency,
    stall::StallFault => Stall,
    cut::CutFault => Cut,
    trickle::TrickleFault => Trickle,
    drop_event::DropFault => Drop,
    inject::InjectFault => Inject,
    hang::HangFault => Hang,
    reset::ResetFault => Reset,
    bandwidth::BandwidthFault => Bandwidth,
    slow_close::SlowCloseFault => SlowClose,
    rate_limit::RateLimitFault => RateLimit,
}

/// What the interposer does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Forward to the upstream untouched.
    Pass,
    /// Wait this long, then go on with the rest of the chain.
    Delay(Duration),
    /// Answer the target with this response; the upstream never sees the request.
    Respond(CannedResponse),
    /// Forward, and apply this fault to the events of the response stream.
    Stream,
    /// Do not answer at all: hang, or kill the connection.
    Connection(ConnectionFault),
    /// Forward, and let the answer's bytes flow at no more than this many per second.
    Throttle(u64),
}

/// A fault that ends the exchange below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionFault {
    /// Never answer (`None`), or close without an answer after this long.
    Hang(Option<Duration>),
    /// Close with a TCP RST.
    Reset,
}

/// What happens to one event of a response stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventAction {
    Pass,
    /// Hold the event back this long.
    Delay(Duration),
    /// Leave the event out.
    Drop,
    /// Write these bytes, then the event.
    InsertBefore(Bytes),
    /// Write these bytes instead of the event, then end the stream.
    EndWith(Bytes),
    /// End the stream before this event, with no terminator.
    End,
    /// Stop here and never go on (until the target hangs up).
    Hang,
}

/// What a fault may look at: the request line and what the interposer parsed from it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// From the JSON body, when a fault needs it (or the runtime already parsed it).
    pub model: Option<&'a str>,
    /// The body's `stream` flag, when known.
    pub stream: Option<bool>,
    /// Identifies the presented API key: its index in the upstream's key list when the list is
    /// known, otherwise an opaque id derived from it (never the key itself).
    pub key: Option<usize>,
    /// Estimated tokens the request may use (prompt + output limit), when the body was read.
    pub tokens: Option<u64>,
    pub headers: Option<&'a http::HeaderMap>,
    /// Names this attempt of this logical request (its correlation id and the attempt's number),
    /// so its dosing draws are the same whatever else is in flight; `None` → shared stream.
    pub draw_key: Option<u64>,
}
