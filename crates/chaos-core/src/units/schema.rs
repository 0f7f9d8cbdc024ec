//! The JSON Schema of each unit type, for the scenario schema (`chaos schema scenario`): a string
//! whose `pattern` is built from the suffix table the parser reads, so the two accept the same
//! spellings, and also a bare number where that table has an empty suffix (a percentage's
//! fraction, a price per token). The pattern checks the shape; ranges (at most 365d, a rate
//! between 1/h and 1000000/s) stay the parser's, whose errors name the line and column.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::{
    ByteRate, Dollars, HumanDuration, Percent, Price, Rate, Unit, BYTE_RATE_UNITS, DOLLAR_SIGN, DOLLAR_UNITS,
    DURATION_UNITS, PERCENT_UNITS, PRICE_UNITS, RATE_UNITS,
};

/// A number as `split_number` reads one: unsigned here (no unit type takes a negative), no
/// exponent (an `e` ends the number), leading or trailing dot allowed as `f64` parses them.
const NUMBER: &str = r"\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)";

/// How one unit type is written, for its schema.
struct Spelling {
    /// What may come before the number (`$`), or nothing.
    prefix: &'static str,
    /// The suffixes its parser reads; an empty one means a bare number is read too.
    units: &'static [Unit],
    /// The largest bare number allowed, where one is read (the smallest is always 0).
    maximum: Option<f64>,
    description: &'static str,
    /// Values the parser accepts (a unit test checks it), shown by editors.
    examples: &'static [&'static str],
}

impl Spelling {
    /// Whether a bare number, without a unit, is read.
    fn takes_bare_number(&self) -> bool {
        self.units.iter().any(|(suffix, _)| suffix.is_empty())
    }

    /// `^\s*(?:<prefix>)?\s*<number>\s*(?:<suffix>|…)\s*$`, as `scaled` reads it (trimmed text,
    /// then a number, then one of the suffixes, optionally after spaces).
    fn pattern(&self) -> String {
        let suffixes: Vec<String> = self.units.iter().map(|(suffix, _)| escape(suffix)).collect();
        let prefix = match self.prefix {
            "" => String::new(),
            prefix => format!(r"(?:{})?\s*", escape(prefix)),
        };
        format!(r"^\s*{prefix}{NUMBER}\s*(?:{})\s*$", suffixes.join("|"))
    }

    fn schema(&self) -> Schema {
        let mut schema = json_schema!({
            "type": "string",
            "pattern": self.pattern(),
            "description": self.description,
            "examples": self.examples,
        });
        if self.takes_bare_number() {
            schema.insert("type".into(), serde_json::json!(["string", "number"]));
            schema.insert("minimum".into(), 0.into());
            if let Some(maximum) = self.maximum {
                schema.insert("maximum".into(), maximum.into());
            }
        }
        schema
    }
}

/// A suffix as a regular expression matching it literally.
fn escape(suffix: &str) -> String {
    suffix.chars().fold(String::new(), |mut escaped, c| {
        if r"\.^$|?*+()[]{}".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
        escaped
    })
}

const DURATION: Spelling = Spelling {
    prefix: "",
    units: DURATION_UNITS,
    maximum: None,
    description: "A duration: a number and a unit (us, µs, ms, s, m, h, d), like `250ms`, `90s` or \
                  `5m`; at most 365d.",
    examples: &["250ms", "90s", "5m"],
};
const RATE: Spelling = Spelling {
    prefix: "",
    units: RATE_UNITS,
    maximum: None,
    description: "Requests per unit of time, like `20/s`, `600/m` or `3600/h`; from 1/h to 1000000/s.",
    examples: &["20/s", "600/m"],
};
const BYTE_RATE: Spelling = Spelling {
    prefix: "",
    units: BYTE_RATE_UNITS,
    maximum: None,
    description: "Bytes per second, decimal (`500B/s`, `10KB/s`, `2MB/s`, `1GB/s`) or binary (`64KiB/s`, \
                  `1MiB/s`).",
    examples: &["10KB/s", "64KiB/s"],
};
const PERCENT: Spelling = Spelling {
    prefix: "",
    units: PERCENT_UNITS,
    maximum: Some(1.0),
    description: "A percentage from 0% to 100%, like `99.9%`, or a fraction from 0 to 1, like `0.999`.",
    examples: &["99.9%", "30%", "0.05"],
};
const PRICE: Spelling = Spelling {
    prefix: "",
    units: PRICE_UNITS,
    maximum: None,
    description: "US dollars per million tokens (`0.15/M`), per thousand (`0.0005/K`) or per token \
                  (`0.00000015`).",
    examples: &["0.15/M", "0.0005/K"],
};

const DOLLARS: Spelling = Spelling {
    prefix: DOLLAR_SIGN,
    units: DOLLAR_UNITS,
    maximum: None,
    description: "An amount of US dollars, like `$5` or `$0.50` (the sign may be left out).",
    examples: &["$5", "$0.50"],
};

/// `impl JsonSchema` for each unit type from its [`Spelling`], under the type's own name.
macro_rules! unit_schemas {
    ($($unit:ident: $spelling:ident),* $(,)?) => {$(
        impl JsonSchema for $unit {
            fn schema_name() -> Cow<'static, str> {
                stringify!($unit).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $spelling.schema()
            }
        }
    )*};
}
unit_schemas!(
    HumanDuration: DURATION,
    Rate: RATE,
    ByteRate: BYTE_RATE,
    Percent: PERCENT,
    Price: PRICE,
    Dollars: DOLLARS,
);

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::{json, Value};

    use super::*;

    /// Whether `value` validates against `T`'s schema.
    fn valid<T: JsonSchema>(value: &Value) -> bool {
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
        jsonschema::validator_for(schema.as_value()).expect("the schema compiles").is_valid(value)
    }

    /// For each text: the schema accepts it exactly when the parser does (every text here is
    /// within the parser's ranges, or malformed).
    fn agree<T: JsonSchema + FromStr>(texts: &[&str]) {
        for text in texts {
            let parsed = text.parse::<T>().is_ok();
            assert_eq!(valid::<T>(&json!(text)), parsed, "{text:?}: the parser says {parsed}");
        }
    }

    #[test]
    fn each_schema_accepts_what_its_parser_accepts_and_rejects_what_it_rejects() {
        agree::<HumanDuration>(&[
            "250ms", "90s", "5m", "1.5h", "30d", "100us", "100µs", " 2 s ", "+1s", ".5s", "5.s", "5", "5x",
            "ms", "-3s", "", "1e3s", "1..2s", "5 m s",
        ]);
        agree::<Rate>(&["20/s", "600/m", "3600/h", "1.5 /s", "20", "20/d", "-5/s", "20/ s", "/s"]);
        agree::<ByteRate>(&["500B/s", "10KB/s", "2MB/s", "1GB/s", "64KiB/s", "1MiB/s", "10KB", "10kb/s"]);
        agree::<Percent>(&["99.9%", "0%", "100%", "0.3", "1", "0", "%", "5 %", "abc", "-1%"]);
        agree::<Price>(&["0.15/M", "0.0005/K", "0.00000015", "3", "3/G", "/M", "-1/M"]);
        agree::<Dollars>(&["$5", " $0.50 ", "$ 2", "5", "$", "5$", "$-1", "$$5", "five"]);
    }

    #[test]
    fn bare_numbers_are_valid_only_where_the_parser_reads_them() {
        assert!(valid::<Percent>(&json!(0.999)));
        assert!(!valid::<Percent>(&json!(1.5)));
        assert!(valid::<Price>(&json!(0.000001)));
        assert!(!valid::<Price>(&json!(-1)));
        assert!(!valid::<HumanDuration>(&json!(5)) && "5".parse::<HumanDuration>().is_err());
        assert!(!valid::<Rate>(&json!(20)));
        assert!(!valid::<ByteRate>(&json!(1000)));
    }

    #[test]
    fn the_examples_parse() {
        fn check<T: FromStr>(spelling: &Spelling) {
            for example in spelling.examples {
                assert!(example.parse::<T>().is_ok(), "{example}");
            }
        }
        check::<HumanDuration>(&DURATION);
        check::<Rate>(&RATE);
        check::<ByteRate>(&BYTE_RATE);
        check::<Percent>(&PERCENT);
        check::<Price>(&PRICE);
        check::<Dollars>(&DOLLARS);
    }
}
