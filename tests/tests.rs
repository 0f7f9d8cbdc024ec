//! The one integration-test binary (`autotests = false`), so linking stays fast.

mod support;

mod end_to_end;
mod interrupt;
mod invalid_scenarios;
mod passthrough;
mod scenarios;
