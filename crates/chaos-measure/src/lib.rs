//! `chaos-measure`: records and a plan in, figures and a verdict out.
//!
//! - [`analysis`] — figures per phase, percentiles, SLO burn, cost, time to fail over and to
//!   recover, the live figures a halt condition watches.
//! - [`assert`](mod@assert) — each expectation checked against the figures, and the verdict.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod assert;

// The floors below, under the names this crate's code uses for them.
use chaos_core::{metrics, results};
use chaos_scenario as scenario;

#[cfg(test)]
mod test_support {
    pub use chaos_core::testing::*;
    pub use chaos_scenario::testing::*;
}
