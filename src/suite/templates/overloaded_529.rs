//! 529 overloaded: Anthropic's answer when it has no capacity, retryable by its SDKs. Half the
//! first Anthropic upstream's answers are 529s; when that upstream is a fallback, the primary is
//! down (503) for the phase so the traffic reaches it. Graded on the requests answered against
//! what a chain that retries a 529 as configured answers.

use super::super::{scenario_text::Shape, target_file::SuiteTarget};

/// The shape, or `None` when the target fronts no Anthropic upstream.
pub fn shape(target: &SuiteTarget) -> Option<Shape> {
    let (index, overloaded) = target.upstreams.iter().enumerate().find(|(_, u)| u.api == "anthropic")?;
    let rule = "[{ status: 529, probability: 50% }]".to_owned();
    let (primary_faults, upstream_faults, description) = if index == 0 {
        (rule, Vec::new(), "half the primary's answers 529 overloaded".to_owned())
    } else {
        (
            "[{ status: 503 }]".to_owned(),
            vec![(overloaded.name.clone(), rule)],
            format!("the primary down (503), half of {}'s answers 529 overloaded", overloaded.name),
        )
    };
    Some(Shape { id: "overloaded_529", description, primary_faults, upstream_faults, ..Shape::default() })
}
