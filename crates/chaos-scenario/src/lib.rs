//! `chaos-scenario`: scenarios: the YAML a user writes (`raw`), checked and turned into a [`Plan`]
//! (`build`), with errors that name `file:line:column` ([`error`]); the JSON Schema of that
//! YAML for editors, derived from the raw types (`schema`). The `{{name}}` placeholders of a
//! command target ([`template`]) are checked here and filled by `target` once the run starts.
//!
//! YAML is read with `serde-saphyr`: it is maintained, panic-free and fuzzed, forbids unsafe
//! code, reports a line and column for every error, and its `Spanned<T>` lets later checks
//! point at the exact value (serde_yaml is deprecated; its forks carry its old parser).

#![forbid(unsafe_code)]

pub mod agent;
mod alias;
mod arrival;
mod at_speed;
mod build;
pub mod error;
pub mod expect;
pub mod key_pool;
pub mod listen;
mod load;
mod load_endpoint;
pub mod mock_answer;
pub mod most;
pub mod plan;
pub mod rate_profile;
mod raw;
pub mod read;
mod remote;
pub mod request_mix;
pub mod request_shape;
pub mod retry;
mod schema;
pub mod shard;
mod target;
pub mod template;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod upstream;
mod upstream_fill;
pub mod wall_clock;
mod zone;

use std::path::Path;

// The floors below, under the names this crate's code uses for them.
use chaos_core::{located, loopback, ratelimit, results, speed, units, wire};
use chaos_fault as fault;

pub use error::ScenarioError;
pub use plan::Plan;
pub use schema::{scenario_schema, SCENARIO_SCHEMA_FILE};

/// Parses one fault written as a YAML flow mapping, e.g. `{ status: 429, retry_after: 1s }`,
/// as `chaos mock --fault` takes it; errors name `--fault:1:column`.
pub fn parse_fault(
    text: &str,
    family: crate::wire::ApiFamily,
) -> Result<crate::fault::FaultRule, ScenarioError> {
    let origin = Path::new("--fault");
    let raw: serde_saphyr::Spanned<crate::fault::RawFault> =
        serde_saphyr::from_str_with_options(text, reader_options())
            .map_err(|error| ScenarioError::new(origin, text, error::from_yaml(&error)))?;
    crate::fault::RawFault::build(&raw, &crate::fault::FaultContext { family }, None)
        .map_err(|located| ScenarioError::new(origin, text, located))
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Plan, ScenarioError> {
    load_allowing_remote(path, false)
}

/// Reads and checks a scenario file; `allow_remote` is the command line's `--allow-remote`,
/// which lets a target beyond loopback through as the scenario's own `allow_remote` does.
pub fn load_allowing_remote(path: &Path, allow_remote: bool) -> Result<Plan, ScenarioError> {
    let source = read::read_text(path)
        .map_err(|error| ScenarioError::whole_file(path, format!("the scenario {error}")))?;
    parse_allowing_remote(&source, path, allow_remote)
}

/// Checks scenario text; `file` is only used in errors and the plan.
pub fn parse(source: &str, file: &Path) -> Result<Plan, ScenarioError> {
    parse_allowing_remote(source, file, false)
}

/// [`parse`], with the command line's `--allow-remote`.
pub fn parse_allowing_remote(source: &str, file: &Path, allow_remote: bool) -> Result<Plan, ScenarioError> {
    if source.trim().is_empty() {
        return Err(ScenarioError::whole_file(
            file,
            "the scenario is empty; expected a mapping with `name`, `upstreams`, `load` and `phases`",
        ));
    }
    let raw: raw::RawScenario = serde_saphyr::from_str_with_options(source, reader_options())
        .map_err(|error| ScenarioError::new(file, source, error::from_yaml(&error)))?;
    let plan =
        build::build(raw, file, allow_remote).map_err(|located| ScenarioError::new(file, source, located))?;
    Ok(Plan { source: source.to_owned(), ..plan })
}

/// How a scenario's YAML is read: the reader's budget cut down to what a scenario can hold
/// ([`most::YAML_NODES`], [`most::YAML_TEXT_BYTES`]), so aliases cannot make a small file take
/// seconds and hundreds of megabytes to read.
fn reader_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = most::YAML_NODES;
    budget.max_events = 2 * most::YAML_NODES;
    budget.max_total_scalar_bytes = most::YAML_TEXT_BYTES;
    budget.max_recorded_anchor_bytes = most::YAML_TEXT_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 2 * most::YAML_NODES;
    options
}

#[cfg(test)]
mod test_support {
    pub use crate::testing::*;
    pub use chaos_core::testing::*;
}
