//! The JSON Schema of `results.json`, derived with `schemars` from [`Results`] and every type
//! inside it, as serde writes them (the serialize contract: a field serde always writes is
//! required, one it skips is absent), so it cannot describe a shape other than the one written.
//! `chaos schema results` prints it; `schemas/results.v<SCHEMA_VERSION>.json` is its committed
//! copy, which a test keeps equal to what the binary prints.

use schemars::generate::SchemaSettings;

use super::Results;

/// The schema of `results.json`, JSON Schema draft 2020-12.
pub fn results_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().for_serialize().into_generator();
    generator.into_root_schema_for::<Results>().to_value()
}

/// The committed copy's path in the repository, e.g. `schemas/results.v1.json`.
pub fn results_schema_file() -> String {
    format!("schemas/results.v{}.json", super::SCHEMA_VERSION)
}
