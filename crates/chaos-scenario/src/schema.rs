//! The JSON Schema of a scenario file, for editors (the YAML language server reads it from a
//! `# yaml-language-server: $schema=…` line): derived with `schemars` from the raw types in
//! `raw.rs` as serde reads them (the deserialize contract: a key without a default is required,
//! `deny_unknown_fields` is `additionalProperties: false`), so it describes what this build
//! accepts. Unit values (`250ms`, `20/s`, `99.9%`) are described in `units/schema.rs`; what
//! the schema cannot say (ranges, which keys go together, names that must exist) is left to
//! the checks that build the plan. `chaos schema scenario` prints it; [`SCENARIO_SCHEMA_FILE`]
//! is its committed copy, which a test keeps equal to what the binary prints.

use schemars::generate::SchemaSettings;

use super::raw::RawScenario;

/// The committed copy's path in the repository. No version in the name: the scenario format
/// is whatever this build accepts.
pub const SCENARIO_SCHEMA_FILE: &str = "schemas/scenario.json";

/// The schema of a scenario file, JSON Schema draft 2020-12.
pub fn scenario_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().for_deserialize().into_generator();
    generator.into_root_schema_for::<RawScenario>().to_value()
}
