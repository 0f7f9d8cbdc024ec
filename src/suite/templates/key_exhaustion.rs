//! Key exhaustion: one key of the primary's pool is out of quota (every answer to it a 429
//! that no retry fixes), its other keys fine. Graded on the share of requests the primary
//! still answers: a gateway that pools keys moves off the spent one; one that stays on it, or
//! leaves the provider, does not. Only for a target that pools keys for its primary.

use super::super::{scenario_text::Shape, target_file::SuiteTarget};

/// The shape, or `None` when the primary has one key.
pub fn shape(target: &SuiteTarget) -> Option<Shape> {
    let primary = &target.upstreams[0];
    if primary.keys < 2 {
        return None;
    }
    let rule = super::quota::exhausted(&primary.api);
    Some(Shape {
        id: "key_exhaustion",
        description: format!("key 0 of the primary's {} out of quota", primary.keys),
        primary_faults: format!("[{{ status: 429, {rule}, match: {{ key: 0 }} }}]"),
        pooled_keys: true,
        ..Shape::default()
    })
}
