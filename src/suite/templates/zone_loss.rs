//! Zone loss: the primary's zone goes dark. For the fault phase's first third its interposer
//! refuses connections; for the rest (`fault-late`) it is blackholed: connections are accepted
//! and never answered. Graded on the p99 latency of the worse part against the gateway's
//! timeout, and on the requests answered while a fallback was up. The blackholed part lasts
//! long enough for a request to spend a timeout on every attempt the gateway makes at the
//! primary (`(retries + 1) × timeout`), up to 30 s.

use super::super::scenario_text::Shape;

/// `timeout_s`: the gateway's timeout for one attempt; `retries` its retries per upstream.
pub fn shape(timeout_s: f64, retries: u32) -> Shape {
    let blackholed = (f64::from(retries + 1) * timeout_s).min(30.0);
    Shape {
        id: "zone_loss",
        description: "the primary's zone lost: refused, then blackholed".to_owned(),
        zone_loss: Some(["refuse", "blackhole"]),
        late_part: true,
        late_s: Some(blackholed),
        drain_s: Some(f64::from(retries + 2) * timeout_s + 10.0),
        ..Shape::default()
    }
}
