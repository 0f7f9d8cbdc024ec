//! Arguments for a mocked tool call, made up to fit the tool's `parameters` JSON Schema and
//! drawn from the answer's seeded generator (the same seed, the same arguments): objects with
//! every required key and each optional one by a coin, enums and consts, strings, integers and
//! numbers within `minimum`/`maximum`, booleans, arrays of one to three items, the first branch
//! of `anyOf`/`oneOf`. What it does not know (`$ref`, formats, patterns) becomes a string.

use rand::{rngs::StdRng, Rng};
use serde_json::{json, Map, Value};

use crate::wire::tokens;

/// How deep the generator follows nested schemas; below that every value is a string.
const MAX_DEPTH: usize = 8;

/// A value that fits `schema`.
pub fn fitting(schema: &Value, rng: &mut StdRng) -> Value {
    value(schema, rng, 0)
}

fn value(schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
    if let Some(constant) = schema.get("const") {
        return constant.clone();
    }
    if let Some(choices) = schema["enum"].as_array().filter(|choices| !choices.is_empty()) {
        return choices[rng.random_range(0..choices.len())].clone();
    }
    if let Some(first) = ["anyOf", "oneOf"].iter().find_map(|key| schema[key].as_array()?.first()) {
        return value(first, rng, depth + 1);
    }
    if depth >= MAX_DEPTH {
        return string(rng);
    }
    // `type` may be a list (`["string", "null"]`): the first named type wins.
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find_map(Value::as_str).unwrap_or(""),
        kind => kind.as_str().unwrap_or(if schema.get("properties").is_some() { "object" } else { "" }),
    };
    match kind {
        "object" => object(schema, rng, depth),
        "array" => {
            let items = &schema["items"];
            (0..rng.random_range(1..=3)).map(|_| value(items, rng, depth + 1)).collect()
        }
        "integer" => {
            let low = schema["minimum"].as_i64().unwrap_or(0);
            let high = schema["maximum"].as_i64().unwrap_or(low.saturating_add(100)).max(low);
            json!(rng.random_range(low..=high))
        }
        "number" => {
            let low = schema["minimum"].as_f64().unwrap_or(0.0);
            let high = schema["maximum"].as_f64().unwrap_or(low + 100.0).max(low);
            // Two decimals, as a person would write it.
            json!(((low + rng.random::<f64>() * (high - low)) * 100.0).round() / 100.0)
        }
        "boolean" => json!(rng.random::<bool>()),
        "null" => Value::Null,
        _ => string(rng),
    }
}

/// Every required property, and each other one with even odds, in the schema's order.
fn object(schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            if required.contains(&name.as_str()) || rng.random::<bool>() {
                out.insert(name.clone(), value(property, rng, depth + 1));
            }
        }
    }
    Value::Object(out)
}

/// Two of the generated answer's words.
fn string(rng: &mut StdRng) -> Value {
    let first = rng.random_range(0..64);
    json!(format!("{}{}", tokens::word(first).trim_start(), tokens::word(first + 1)))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn weather() -> Value {
        json!({
            "type": "object",
            "properties": {
                "city": { "type": "string" },
                "unit": { "type": "string", "enum": ["celsius", "fahrenheit"] },
                "days": { "type": "integer", "minimum": 1, "maximum": 7 },
                "hourly": { "type": "boolean" },
                "where": { "type": "object", "properties": { "lat": { "type": "number" } }, "required": ["lat"] },
            },
            "required": ["city", "unit", "days", "where"],
        })
    }

    #[test]
    fn every_required_key_is_there_with_a_value_of_its_type() {
        for seed in 0..50 {
            let arguments = fitting(&weather(), &mut StdRng::seed_from_u64(seed));
            assert!(arguments["city"].is_string(), "{arguments}");
            assert!(["celsius", "fahrenheit"].contains(&arguments["unit"].as_str().unwrap()), "{arguments}");
            assert!((1..=7).contains(&arguments["days"].as_i64().unwrap()), "{arguments}");
            assert!(arguments["where"]["lat"].is_f64(), "{arguments}");
            assert!(arguments.get("hourly").is_none_or(Value::is_boolean), "{arguments}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_arguments_and_others_differ() {
        let draw = |seed| fitting(&weather(), &mut StdRng::seed_from_u64(seed));
        assert_eq!(draw(7), draw(7));
        assert!((0..20).any(|seed| draw(seed) != draw(7)));
    }

    #[test]
    fn schemas_it_does_not_know_still_give_a_value() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!(fitting(&json!({}), &mut rng).is_string());
        assert!(fitting(&json!({ "$ref": "#/defs/x" }), &mut rng).is_string());
        assert_eq!(fitting(&json!({ "const": 3 }), &mut rng), json!(3));
        assert!(fitting(&json!({ "type": ["integer", "null"] }), &mut rng).is_i64());
        let deep =
            (0..100).fold(json!({ "type": "string" }), |inner, _| json!({ "type": "array", "items": inner }));
        assert!(fitting(&deep, &mut rng).is_array(), "a deep schema ends in strings, not a stack overflow");
    }
}
