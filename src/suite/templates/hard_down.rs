//! The primary hard down: every answer a 503, then it returns. Graded on the time to fail over
//! (p99) and, in its recovery phase (at least 8 s: LiteLLM's cooldown is 5 s), the time back to
//! the primary.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "hard_down",
        description: "the primary 100 % 503, then recovered".to_owned(),
        primary_faults: "[{ status: 503 }]".to_owned(),
        recovery_s: Some(8.0),
        ..Shape::default()
    }
}
