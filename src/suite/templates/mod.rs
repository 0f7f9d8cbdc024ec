//! One template a dimension: each says which faults its scenario plays and how it loads.

mod brownout;
mod chain_retries;
mod circuit_breaking;
mod hard_down;
mod key_exhaustion;
mod overloaded_529;
mod quota;
mod retry_after;
mod slow_ttft;
mod stream_cut;
mod stream_stall;
mod zone_loss;

use super::{scenario_text::Shape, target_file::SuiteTarget};

/// The suite's scenarios for `target`, in the order they run (the 529 one only when the target
/// fronts an Anthropic upstream, key exhaustion only when it pools keys for its primary).
pub fn shapes(target: &SuiteTarget) -> Vec<Shape> {
    let shapes = vec![
        retry_after::shape(),
        quota::shape(&target.upstreams[0].api),
        brownout::shape(),
        hard_down::shape(),
        slow_ttft::shape(target.timeout_s, target.retries),
        stream_cut::shape(),
        circuit_breaking::shape(),
        chain_retries::shape(),
        stream_stall::shape(target.timeout_s),
        zone_loss::shape(target.timeout_s, target.retries),
    ];
    shapes.into_iter().chain(overloaded_529::shape(target)).chain(key_exhaustion::shape(target)).collect()
}
