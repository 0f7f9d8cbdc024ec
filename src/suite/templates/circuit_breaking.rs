//! Circuit breaking: the primary hard down for the whole fault phase, its last two thirds
//! (`fault-late`) graded on how many attempts a request still makes at the dead primary.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "circuit_breaking",
        description: "the primary 100 % 503 long enough for a breaker to open".to_owned(),
        primary_faults: "[{ status: 503 }]".to_owned(),
        late_part: true,
        ..Shape::default()
    }
}
