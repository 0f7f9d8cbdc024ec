//! 429 `insufficient_quota`: the primary's account is out of credit, which no retry can fix.
//! Graded on the attempts a request still makes at the primary.

use super::super::scenario_text::Shape;

/// `api` is the primary's family.
pub fn shape(api: &str) -> Shape {
    let rule = exhausted(api);
    Shape {
        id: "quota",
        description: "every answer of the primary a 429 insufficient_quota".to_owned(),
        primary_faults: format!("[{{ status: 429, {rule} }}]"),
        ..Shape::default()
    }
}

/// A 429 that no retry can fix, in `api`'s words: OpenAI's `insufficient_quota`; Anthropic has
/// no quota kind, so its 429 says `x-should-retry: false` instead.
pub fn exhausted(api: &str) -> &'static str {
    if api == "openai" {
        "quota: true"
    } else {
        "should_retry: false"
    }
}
