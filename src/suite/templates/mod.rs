//! One template a dimension: each says which faults its scenario plays and how it loads.

mod brownout;
mod chain_retries;
mod circuit_breaking;
mod hard_down;
mod quota;
mod retry_after;
mod slow_ttft;
mod stream_cut;

use super::{scenario_text::Shape, target_file::SuiteTarget};

/// The suite's scenarios for `target`, in the order they run.
pub fn shapes(target: &SuiteTarget) -> Vec<Shape> {
    vec![
        retry_after::shape(),
        quota::shape(&target.upstreams[0].api),
        brownout::shape(),
        hard_down::shape(),
        slow_ttft::shape(target.timeout_s, target.retries),
        stream_cut::shape(),
        circuit_breaking::shape(),
        chain_retries::shape(),
    ]
}
