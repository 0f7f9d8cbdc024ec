//! The primary's first token comes twice the gateway's timeout late. Graded on the p99 latency
//! against that timeout: one timeout then the fallback is an A.

use super::super::scenario_text::Shape;

/// `timeout_s`: the gateway's timeout for one attempt; `retries` its retries per upstream.
pub fn shape(timeout_s: f64, retries: u32) -> Shape {
    let late = super::super::scenario_text::seconds(2.0 * timeout_s);
    Shape {
        id: "slow_ttft",
        description: format!("the primary's answers {late}s late, twice the timeout"),
        primary_faults: format!("[{{ latency: {late}s }}]"),
        drain_s: Some(f64::from(retries + 2) * 2.0 * timeout_s + 10.0),
        ..Shape::default()
    }
}
