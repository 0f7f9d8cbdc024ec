//! Bounded retries across a chain: every upstream answers 503. Graded on the attempts a request
//! makes against `(1 + retries) × hops`: a fallback that restarts the cycle multiplies them.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "chain_retries",
        description: "every upstream 100 % 503".to_owned(),
        primary_faults: "[{ status: 503 }]".to_owned(),
        every_upstream: true,
        ..Shape::default()
    }
}
