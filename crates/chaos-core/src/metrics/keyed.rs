//! Counts keyed by an outcome, as `results.json` holds them: a JSON object whose keys are the
//! outcomes' stable keys (`ok`, `http_503`; `200`, `unreachable`), read back by parsing those
//! keys. Used as a serde `with` module on `BTreeMap<K, u64>` fields.

use std::collections::BTreeMap;

use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

/// A value with a stable string key it can be read back from.
pub trait Keyed: Sized + Ord {
    fn key(self) -> String;
    fn from_key(key: &str) -> Option<Self>;
}

impl Keyed for super::Outcome {
    fn key(self) -> String {
        super::Outcome::key(self)
    }

    fn from_key(key: &str) -> Option<Self> {
        super::Outcome::from_key(key)
    }
}

impl Keyed for super::AttemptOutcome {
    fn key(self) -> String {
        super::AttemptOutcome::key(self)
    }

    fn from_key(key: &str) -> Option<Self> {
        super::AttemptOutcome::from_key(key)
    }
}

pub fn serialize<K: Keyed + Copy, S: Serializer>(
    map: &BTreeMap<K, u64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let keyed: BTreeMap<String, u64> = map.iter().map(|(key, count)| (key.key(), *count)).collect();
    keyed.serialize(serializer)
}

pub fn deserialize<'de, K: Keyed, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<K, u64>, D::Error> {
    let keyed = BTreeMap::<String, u64>::deserialize(deserializer)?;
    keyed
        .into_iter()
        .map(|(key, count)| {
            K::from_key(&key)
                .map(|k| (k, count))
                .ok_or_else(|| D::Error::custom(format!("unknown outcome `{key}`")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{AttemptOutcome, Outcome};
    use super::*;

    #[test]
    fn every_key_reads_back() {
        let outcomes = [
            Outcome::Ok,
            Outcome::HttpError(529),
            Outcome::Timeout,
            Outcome::ConnectionError,
            Outcome::StreamCut,
            Outcome::Unfinished,
        ];
        for outcome in outcomes {
            assert_eq!(<Outcome as Keyed>::from_key(&outcome.key()), Some(outcome));
        }
        let attempts = [
            AttemptOutcome::Status(200),
            AttemptOutcome::Unreachable,
            AttemptOutcome::Cancelled,
            AttemptOutcome::Aborted,
        ];
        for outcome in attempts {
            assert_eq!(<AttemptOutcome as Keyed>::from_key(&outcome.key()), Some(outcome));
        }
        assert_eq!(<Outcome as Keyed>::from_key("http_x"), None);
        assert_eq!(<AttemptOutcome as Keyed>::from_key("teapot"), None);
    }
}
