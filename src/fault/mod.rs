//! Faults as pure decisions: each fault looks at a request and says what to do
//! (pass, delay, respond); the runtime that holds it (the interposer, or a mock) does the
//! sleeping and the writing. A [`Chain`] applies rules in order with seeded dosing.
//!
//! One file per fault, each with its unit tests. To add a fault: a file here with a struct
//! and `on_request`, a variant in [`FaultAction`], and a key in `scenario/raw.rs`.

pub mod bandwidth;
pub mod chain;
mod cut;
mod dose;
mod drop_event;
mod hang;
mod inject;
mod latency;
mod matcher;
mod rate_limit;
mod reset;
mod scale;
mod slow_close;
mod stall;
mod status;
mod trickle;

pub use bandwidth::BandwidthFault;
pub use chain::{Chain, ChainDecision, FaultRule};
pub use cut::CutFault;
pub use dose::Dose;
pub use drop_event::{DropFault, DroppedEvent};
pub use hang::HangFault;
pub use inject::{InjectFault, Injected};
pub use matcher::Matcher;
pub use rate_limit::RateLimitFault;
pub use reset::ResetFault;
pub use slow_close::SlowCloseFault;
pub use stall::StallFault;
pub use trickle::TrickleFault;

use std::time::Duration;

use bytes::Bytes;

pub use latency::{DelayDistribution, LatencyFault};
pub use status::{supported_statuses, StatusFault};

use crate::wire::CannedResponse;

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

/// One fault's action.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Status(StatusFault),
    Latency(LatencyFault),
    Stall(StallFault),
    Cut(CutFault),
    Trickle(TrickleFault),
    Drop(DropFault),
    Inject(InjectFault),
    Hang(HangFault),
    Reset(ResetFault),
    RateLimit(RateLimitFault),
    Bandwidth(BandwidthFault),
    SlowClose(SlowCloseFault),
}

impl FaultAction {
    /// The decision for one request; stream faults say [`Decision::Stream`]. `rng` is the
    /// request's own draw stream (see [`Chain`]).
    pub fn on_request(&self, request: &RequestView<'_>, rng: &mut rand::rngs::StdRng) -> Decision {
        match self {
            FaultAction::Status(fault) => fault.on_request(request),
            FaultAction::Latency(fault) => fault.on_request(request, rng),
            FaultAction::Hang(fault) => fault.on_request(request),
            FaultAction::Reset(fault) => fault.on_request(request),
            FaultAction::RateLimit(fault) => fault.on_request(request),
            FaultAction::Bandwidth(fault) => fault.on_request(request),
            FaultAction::Stall(_)
            | FaultAction::Cut(_)
            | FaultAction::Trickle(_)
            | FaultAction::Drop(_)
            | FaultAction::Inject(_)
            | FaultAction::SlowClose(_) => Decision::Stream,
        }
    }

    /// This action as it applies to one request's answer: a stream fault whose events draw at
    /// random gets its draws seeded from the request's own `rng`; any other is itself.
    pub fn for_request(&self, rng: &mut rand::rngs::StdRng) -> FaultAction {
        match self {
            FaultAction::Trickle(fault) => FaultAction::Trickle(fault.drawn_from(rng)),
            other => other.clone(),
        }
    }

    /// What happens to one event of the response stream (HTTP-level faults pass every event).
    pub fn on_event(&self, event: &crate::wire::sse_split::SseEvent<'_>) -> EventAction {
        match self {
            FaultAction::Stall(fault) => fault.on_event(event),
            FaultAction::Cut(fault) => fault.on_event(event),
            FaultAction::Trickle(fault) => fault.on_event(event),
            FaultAction::Drop(fault) => fault.on_event(event),
            FaultAction::Inject(fault) => fault.on_event(event),
            FaultAction::Status(_)
            | FaultAction::Latency(_)
            | FaultAction::Hang(_)
            | FaultAction::Reset(_)
            | FaultAction::RateLimit(_)
            | FaultAction::Bandwidth(_)
            | FaultAction::SlowClose(_) => EventAction::Pass,
        }
    }

    /// How long the stream stays open after its last event (only `slow_close` holds it).
    pub fn on_end(&self) -> Duration {
        match self {
            FaultAction::SlowClose(fault) => fault.on_end(),
            _ => Duration::ZERO,
        }
    }

    /// A short label for records and reports, such as `status:429` or `stall`.
    pub fn label(&self) -> String {
        match self {
            FaultAction::Status(fault) => format!("status:{}", fault.status),
            FaultAction::Latency(_) => "latency".to_owned(),
            FaultAction::Stall(_) => "stall".to_owned(),
            FaultAction::Cut(_) => "cut".to_owned(),
            FaultAction::Trickle(_) => "trickle".to_owned(),
            FaultAction::Drop(fault) => format!("drop:{:?}", fault.what).to_lowercase(),
            FaultAction::Inject(fault) => format!("inject:{:?}", fault.what).to_lowercase(),
            FaultAction::Hang(_) => "hang".to_owned(),
            FaultAction::Reset(_) => "reset".to_owned(),
            FaultAction::RateLimit(_) => "rate_limit".to_owned(),
            FaultAction::Bandwidth(_) => "bandwidth".to_owned(),
            FaultAction::SlowClose(_) => "slow_close".to_owned(),
        }
    }

    /// Whether deciding needs the request body read (a limiter counts its tokens).
    pub fn needs_body(&self) -> bool {
        matches!(self, FaultAction::RateLimit(_))
    }
}
