//! 429 with `retry-after`: half the primary's answers are rate limits asking for a 2 s wait.
//! Graded on the share of retries that waited as asked.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "retry_after",
        description: "half the primary's answers 429 with retry-after 2s".to_owned(),
        primary_faults: "[{ status: 429, retry_after: 2s, probability: 50% }]".to_owned(),
        ..Shape::default()
    }
}
