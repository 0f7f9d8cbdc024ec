//! Fixtures for the unit tests of this crate: the scenario floor's (plans, and a calm-then-down
//! run folded).

pub use chaos_scenario::testing::*;
