//! 5xx brownout: 30 % of the primary's answers are 503s. Graded on the requests answered.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "brownout",
        description: "30 % of the primary's answers 503".to_owned(),
        primary_faults: "[{ status: 503, probability: 30% }]".to_owned(),
        ..Shape::default()
    }
}
