//! Faults as pure decisions: each fault looks at a request and says what to do
//! (pass, delay, respond); the runtime that holds it (the interposer, or a mock) does the
//! sleeping and the writing. A [`Chain`] applies rules in order with seeded dosing.
//!
//! One file per fault, each with its unit tests. To add a fault: a file here with a struct
//! and `on_request`, a variant in [`FaultAction`], and a key in `scenario/raw.rs`.

pub mod chain;
mod latency;
mod status;

pub use chain::{Chain, ChainDecision, FaultRule};

use std::time::Duration;

pub use latency::LatencyFault;
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
}

/// What a fault may look at: the request line and what the interposer parsed from it.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub model: Option<&'a str>,
    /// Names this attempt of this logical request (from its correlation id and retry count),
    /// so its dosing draws are the same whatever else is in flight; `None` → shared stream.
    pub draw_key: Option<u64>,
}

/// One fault's action.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Status(StatusFault),
    Latency(LatencyFault),
}

impl FaultAction {
    /// The decision for one request; pure apart from randomness the fault itself owns.
    pub fn on_request(&self, request: &RequestView<'_>) -> Decision {
        match self {
            FaultAction::Status(fault) => fault.on_request(request),
            FaultAction::Latency(fault) => fault.on_request(request),
        }
    }

    /// A short label for records and reports, such as `status:429` or `latency`.
    pub fn label(&self) -> String {
        match self {
            FaultAction::Status(fault) => format!("status:{}", fault.status),
            FaultAction::Latency(_) => "latency".to_owned(),
        }
    }
}
