//! A stream that stalls mid-answer: half the primary's streams stop after 3 events for three
//! times the gateway's timeout, then go on. Graded on the p99 time for a request to end, good or
//! bad: a gateway (or client) that watches its streams ends a stalled one within its timeout;
//! one that does not waits the stall out.

use super::super::scenario_text::{seconds, Shape};

/// `timeout_s`: the gateway's timeout for one attempt.
pub fn shape(timeout_s: f64) -> Shape {
    let stall = seconds(3.0 * timeout_s);
    Shape {
        id: "stream_stall",
        description: format!("half the primary's streams stalled {stall}s after 3 events"),
        primary_faults: format!("[{{ stall: {{ after_events: 3, for: {stall}s }}, probability: 50% }}]"),
        stream: true,
        drain_s: Some(3.0 * timeout_s + 10.0),
        ..Shape::default()
    }
}
