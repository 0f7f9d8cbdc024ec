//! Streams cut without `[DONE]`: half the primary's streams break off after 3 events, already
//! billed. Graded on the requests paid for more than once.

use super::super::scenario_text::Shape;

pub fn shape() -> Shape {
    Shape {
        id: "stream_cut",
        description: "half the primary's streams cut after 3 events, no [DONE]".to_owned(),
        primary_faults: "[{ cut: { after_events: 3 }, probability: 50% }]".to_owned(),
        stream: true,
        ..Shape::default()
    }
}
