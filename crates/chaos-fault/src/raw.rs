//! One rule of a chain as written (`{ status: 429, retry_after: 2s, probability: 30% }`) and
//! its checks: exactly one action key of the registry's table, the options that go with it,
//! and the dosing and matching keys every rule shares. Keys are read by the table
//! ([`RawAction`], [`RawOptions`]), so a new fault needs no change here.

use std::sync::LazyLock;

use indexmap::IndexMap;
use serde::{
    de::{self, MapAccess, Visitor},
    Deserialize, Deserializer,
};
use serde_saphyr::Spanned;

use super::{Dose, FaultContext, FaultRule, Matcher, RawAction, RawOptions, EXAMPLES, NAMES, OPTION_KEYS};
use crate::{
    located::{Checked, Located},
    units::Percent,
};

/// The most requests or stream events a fault may count (`first`, `after`, `every`,
/// `after_events`): a billion, more than any run sends (365 days at 20/s is 631 million), so
/// a larger count can only be a typo.
pub const MOST_COUNT: u64 = 1_000_000_000;

/// `value` if it is at most [`MOST_COUNT`], else an error at `at` naming `key`.
pub(crate) fn counted(value: u64, key: &str, at: &serde_saphyr::Location) -> Checked<u64> {
    if value > MOST_COUNT {
        return Err(Located::at(
            at,
            format!("`{key}: {value}` is too large; the most allowed is {MOST_COUNT}"),
        ));
    }
    Ok(value)
}

/// The keys every rule may carry besides its action.
const SHARED_KEYS: [&str; 5] = ["probability", "first", "after", "every", "match"];

/// Every key a rule may have: the actions, the shared keys, then the options, as serde's
/// "unknown field" error lists them.
static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let options = OPTION_KEYS.iter().flat_map(|keys| keys.iter().copied());
    NAMES.iter().copied().chain(SHARED_KEYS).chain(options).collect()
});

/// One rule of an interposer's chain, as written: one action key plus dosing keys.
#[derive(Debug, Default)]
pub struct RawFault {
    /// The action keys given, in the order written (a valid rule has one).
    pub actions: Vec<RawAction>,
    pub options: RawOptions,
    pub probability: Option<Spanned<Percent>>,
    /// Only the first N matching requests.
    pub first: Option<Spanned<u64>>,
    /// Only after the first N matching requests.
    pub after: Option<Spanned<u64>>,
    /// Every Nth matching request.
    pub every: Option<Spanned<u64>>,
    pub matcher: Option<RawMatch>,
}

/// `match: { path, method, model, stream, header: { name: value }, key: N }`
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub header: IndexMap<String, String>,
    /// Index of the API key in the upstream's key list.
    #[serde(default)]
    #[schemars(with = "Option<usize>")]
    pub key: Option<Spanned<usize>>,
}

/// A key of a rule, told apart while serde reads it (so an unknown one is reported where it
/// is written, with the list of known ones).
enum Key {
    Action(&'static str),
    Option { owner: &'static str, key: &'static str },
    Probability,
    First,
    After,
    Every,
    Match,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyName;
        impl Visitor<'_> for KeyName {
            type Value = Key;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a fault key")
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
                if let Some(action) = NAMES.iter().find(|action| **action == name) {
                    return Ok(Key::Action(action));
                }
                let option = NAMES.iter().zip(OPTION_KEYS).find_map(|(owner, keys)| {
                    keys.iter().find(|key| **key == name).map(|key| Key::Option { owner, key })
                });
                option
                    .or(match name {
                        "probability" => Some(Key::Probability),
                        "first" => Some(Key::First),
                        "after" => Some(Key::After),
                        "every" => Some(Key::Every),
                        "match" => Some(Key::Match),
                        _ => None,
                    })
                    .ok_or_else(|| E::unknown_field(name, KEYS.as_slice()))
            }
        }
        deserializer.deserialize_identifier(KeyName)
    }
}

impl<'de> Deserialize<'de> for RawFault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rule;
        impl<'de> Visitor<'de> for Rule {
            type Value = RawFault;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a fault, like `{ status: 503, probability: 20% }`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFault, A::Error> {
                // A key given twice never gets here: the YAML reader refuses it first.
                let mut rule = RawFault::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Action(name) => rule.actions.extend(RawAction::read(name, &mut map)?),
                        Key::Option { owner, key } => rule.options.read(owner, key, &mut map)?,
                        Key::Probability => once(&mut rule.probability, &mut map)?,
                        Key::First => once(&mut rule.first, &mut map)?,
                        Key::After => once(&mut rule.after, &mut map)?,
                        Key::Every => once(&mut rule.every, &mut map)?,
                        Key::Match => once(&mut rule.matcher, &mut map)?,
                    }
                }
                Ok(rule)
            }
        }
        deserializer.deserialize_struct("RawFault", KEYS.as_slice(), Rule)
    }
}

/// The schema editors see: every key of the registry's table (each action described by its
/// example, and each fault's options), the keys every rule shares, and nothing else
/// (`additionalProperties: false`, as the reader refuses an unknown key).
impl schemars::JsonSchema for RawFault {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawFault".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut properties: serde_json::Map<String, serde_json::Value> =
            super::fault_key_schemas(generator).into_iter().collect();
        let count = |what: &str| serde_json::json!({ "type": "integer", "minimum": 0, "description": what });
        let mut probability = generator.subschema_for::<Percent>().to_value();
        if let Some(object) = probability.as_object_mut() {
            object.insert("description".into(), "The share of matching requests it fires on.".into());
        }
        properties.insert("probability".into(), probability);
        properties.insert("first".into(), count("Only the first N matching requests."));
        properties.insert("after".into(), count("Only after the first N matching requests."));
        let mut every = count("Every Nth matching request.");
        every["minimum"] = 1.into();
        properties.insert("every".into(), every);
        properties.insert("match".into(), generator.subschema_for::<RawMatch>().to_value());
        schemars::json_schema!({
            "description": "One rule of an interposer's chain: one action key (`status`, `latency`, …) with its options, and when it fires.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

/// Reads a shared key's value into `slot` (a null value leaves it out, as serde's derive does
/// for an `Option` field).
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
) -> Result<(), A::Error> {
    *slot = map.next_value()?;
    Ok(())
}

impl RawFault {
    /// The checked rule. `key_count` is the number of API keys the upstream has, when known.
    pub fn build(
        fault: &Spanned<RawFault>,
        context: &FaultContext,
        key_count: Option<usize>,
    ) -> Checked<FaultRule> {
        let raw = &fault.value;
        let mut actions: Vec<&RawAction> = raw.actions.iter().collect();
        actions.sort_by_key(|action| NAMES.iter().position(|name| *name == action.name()));
        let checked =
            actions.iter().map(|action| action.check(&raw.options, context)).collect::<Checked<Vec<_>>>()?;
        let action = match (checked.len(), checked.into_iter().next()) {
            (1, Some(action)) => action,
            (0, _) | (_, None) => {
                let message = format!("this fault has no action; expected one of {}", EXAMPLES.join(", "));
                return Err(Located::at(&fault.referenced, message));
            }
            _ => {
                let names: Vec<String> =
                    actions.iter().map(|action| format!("`{}`", action.name())).collect();
                let message = format!(
                    "a fault has one action, this one has {}; write one fault per action to chain them",
                    names.join(" and ")
                );
                return Err(Located::at(&fault.referenced, message));
            }
        };
        let owner = actions[0].name();
        if let Some((other, key, at)) = raw.options.given().into_iter().find(|(of, ..)| *of != owner) {
            return Err(Located::at(&at, format!("`{key}` only goes with a `{other}` fault")));
        }
        Ok(FaultRule { action, matcher: matcher(raw, key_count)?, dose: dose(raw)? })
    }
}

fn dose(raw: &RawFault) -> Checked<Dose> {
    if let Some(every) = raw.every.as_ref().filter(|every| every.value == 0) {
        return Err(Located::at(&every.referenced, "`every: 0` never fires; expected 1 or more"));
    }
    let count = |raw: &Option<Spanned<u64>>, key| {
        raw.as_ref().map(|n| counted(n.value, key, &n.referenced)).transpose()
    };
    Ok(Dose {
        probability: raw.probability.as_ref().map_or(1.0, |p| p.value.0),
        first: count(&raw.first, "first")?,
        after: count(&raw.after, "after")?,
        every: count(&raw.every, "every")?,
    })
}

/// The fault's `match:`; `key_count` (when the upstream's keys are known) bounds `key`.
fn matcher(raw: &RawFault, key_count: Option<usize>) -> Checked<Matcher> {
    let Some(raw) = &raw.matcher else { return Ok(Matcher::default()) };
    if let (Some(key), Some(count)) = (&raw.key, key_count) {
        if key.value >= count {
            let message = format!(
                "`key: {}` is out of range; this upstream has {count} key(s), numbered from 0",
                key.value
            );
            return Err(Located::at(&key.referenced, message));
        }
    }
    Ok(Matcher {
        path: raw.path.clone(),
        method: raw.method.clone(),
        model: raw.model.clone(),
        stream: raw.stream,
        headers: raw.header.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect(),
        key: raw.key.as_ref().map(|key| key.value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{wire::ApiFamily, FaultAction};

    fn build(text: &str, family: ApiFamily) -> Checked<FaultRule> {
        let raw: Spanned<RawFault> = serde_saphyr::from_str(text).expect("parses");
        RawFault::build(&raw, &FaultContext { family }, None)
    }

    #[test]
    fn every_fault_in_the_table_is_read_from_its_own_example() {
        for (name, example) in NAMES.iter().zip(EXAMPLES) {
            let written = example.split('`').nth(1).expect("an example in backticks");
            let rule = build(&format!("{{ {written} }}"), ApiFamily::OpenAi)
                .unwrap_or_else(|error| panic!("{written}: {error:?}"));
            assert!(rule.action.label().starts_with(name), "{written} -> {}", rule.action.label());
        }
    }

    #[test]
    fn dosing_and_matching_keys_go_with_any_action() {
        let rule =
            build("{ latency: 1s, probability: 25%, every: 2, match: { model: m } }", ApiFamily::OpenAi)
                .expect("valid");
        assert_eq!(rule.dose.probability, 0.25);
        assert_eq!(rule.dose.every, Some(2));
        assert_eq!(rule.matcher.model.as_deref(), Some("m"));
    }

    #[test]
    fn an_option_of_another_fault_is_refused_where_it_is_written() {
        let error = build("{ latency: 1s, retry_after: 2s }", ApiFamily::OpenAi).unwrap_err();
        assert_eq!(error.message, "`retry_after` only goes with a `status` fault");
        assert_eq!((error.line, error.column), (1, 29));
    }

    #[test]
    fn an_unknown_key_lists_every_known_one_and_a_key_twice_is_refused() {
        let unknown = serde_saphyr::from_str::<Spanned<RawFault>>("{ stauts: 503 }").unwrap_err().to_string();
        let listed = unknown.split("expected one of ").nth(1).expect("a list of keys");
        let listed: Vec<&str> = listed.lines().next().unwrap_or_default().split(", ").collect();
        assert!(unknown.contains("unknown field `stauts`"), "{unknown}");
        for key in NAMES.iter().chain(&SHARED_KEYS).chain(&["retry_after", "quota", "should_retry"]) {
            assert!(listed.contains(key), "{key} missing from {unknown}");
        }
        let twice = serde_saphyr::from_str::<Spanned<RawFault>>("{ status: 503, status: 500 }").unwrap_err();
        assert!(twice.to_string().contains("duplicate"), "{twice}");
    }

    #[test]
    fn the_schema_has_exactly_the_keys_the_reader_takes() {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        let schema = <RawFault as schemars::JsonSchema>::json_schema(&mut generator).to_value();
        let mut described: Vec<&str> =
            schema["properties"].as_object().expect("properties").keys().map(String::as_str).collect();
        let mut read = KEYS.clone();
        described.sort_unstable();
        read.sort_unstable();
        assert_eq!(described, read);
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn retry_after_is_fixed_or_drawn_from_a_distribution() {
        let status = |written: &str| match build(written, ApiFamily::OpenAi).expect("valid").action {
            FaultAction::Status(status) => status.retry_after,
            other => panic!("a status fault: {other:?}"),
        };
        let fixed = status("{ status: 429, retry_after: 2s }");
        assert_eq!(fixed, Some(crate::delay::DelayDistribution::Fixed(std::time::Duration::from_secs(2))));
        let drawn = status("{ status: 429, retry_after: { uniform: [1s, 5s] } }");
        let (min, max) = (std::time::Duration::from_secs(1), std::time::Duration::from_secs(5));
        assert_eq!(drawn, Some(crate::delay::DelayDistribution::Uniform { min, max }));
        let upside_down = build("{ status: 503,\n  retry_after: { uniform: [5s, 1s] } }", ApiFamily::OpenAi);
        let error = upside_down.unwrap_err();
        assert!(error.message.contains("minimum above its maximum"), "{}", error.message);
        assert_eq!((error.line, error.column), (2, 16));
        let empty = build("{ status: 503, retry_after: {} }", ApiFamily::OpenAi).unwrap_err();
        assert!(empty.message.starts_with("`retry_after` needs a duration"), "{}", empty.message);
    }

    #[test]
    fn a_null_value_counts_as_the_key_left_out() {
        let rule = build(
            r#"{"status": 429, "retry_after": null, "probability": null, "match": null}"#,
            ApiFamily::OpenAi,
        )
        .expect("valid");
        let FaultAction::Status(status) = &rule.action else { panic!("a status fault: {rule:?}") };
        assert_eq!((status.status, status.retry_after), (429, None));
        assert_eq!(rule.dose.probability, 1.0);
        let error = build("{ status: null }", ApiFamily::OpenAi).unwrap_err();
        assert!(error.message.starts_with("this fault has no action"), "{}", error.message);
    }
}
