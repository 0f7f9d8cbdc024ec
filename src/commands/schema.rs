//! `chaos schema`: prints the JSON Schema of an output file or of a scenario, as committed in
//! `schemas/`.

use std::io::Write;

use anyhow::Context;

use crate::{cli::SchemaOf, results, scenario, Exit};

/// Prints the schema of `of` as pretty JSON to stdout.
pub fn schema(of: SchemaOf) -> anyhow::Result<Exit> {
    let schema = match of {
        SchemaOf::Results => results::results_schema(),
        SchemaOf::Scenario => scenario::scenario_schema(),
        SchemaOf::Scorecard => crate::scorecard::scorecard_schema(),
        SchemaOf::ScorecardTarget => crate::suite::target_file::target_file_schema(),
        SchemaOf::ScorecardCompare => crate::scorecard::compare::comparison_schema(),
    };
    let text = serde_json::to_string_pretty(&schema)?;
    writeln!(std::io::stdout().lock(), "{text}").context("cannot write the schema to stdout")?;
    Ok(Exit::Pass)
}
