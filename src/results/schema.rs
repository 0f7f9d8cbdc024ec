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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The property names an object schema describes, or the keys an object holds, sorted.
    fn names(object: &Value) -> Vec<String> {
        let mut names: Vec<String> =
            object.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn the_schema_describes_the_fields_serde_writes_and_no_others() {
        let schema = results_schema();
        let written = serde_json::to_value(crate::test_support::results()).expect("serializes");
        // `run` is flattened into the top level; `Expectation` into each check, less its skipped
        // `phase` index (the check's own `phase` is a name).
        let pairs = [
            (&schema["properties"], &written),
            (&schema["$defs"]["Check"]["properties"], &written["expectations"][0]),
            (&schema["$defs"]["Figures"]["properties"], &written["overall"]),
        ];
        for (described, fields) in pairs {
            assert!(!names(fields).is_empty(), "the fixture lacks a part: {written}");
            assert_eq!(names(described), names(fields));
        }
        let check = &schema["$defs"]["Check"];
        assert_eq!(check["properties"]["phase"]["type"], serde_json::json!(["string", "null"]));
        let required = check["required"].as_array().expect("required");
        assert!(required.contains(&"observed".into()), "an Option serde always writes is required");
        assert_eq!(schema["properties"]["schema_version"]["const"], super::super::SCHEMA_VERSION);
    }
}
