//! An HDR histogram as a string in `results.json`: HdrHistogram's V2 encoding, deflated
//! (`V2DeflateSerializer`, the form its interval logs use), then base64 (standard alphabet,
//! padded). Exact: decoding gives back every count, so histograms read from two files merge
//! as if they had been one. Used as a serde `with` module.

use base64::{engine::general_purpose::STANDARD, Engine};
use hdrhistogram::{
    serialization::{Deserializer, Serializer, V2DeflateSerializer},
    Histogram,
};

/// The histogram's encoding.
pub fn encode(histogram: &Histogram<u32>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(histogram, &mut bytes).map_err(|error| format!("{error:?}"))?;
    Ok(STANDARD.encode(bytes))
}

/// The histogram an encoding holds, growing as needed when more values are added to it.
pub fn decode(text: &str) -> Result<Histogram<u32>, String> {
    let bytes = STANDARD.decode(text).map_err(|error| format!("not base64: {error}"))?;
    let mut histogram: Histogram<u32> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|error| format!("not an HDR histogram: {error:?}"))?;
    histogram.auto(true);
    Ok(histogram)
}

pub fn serialize<S: serde::Serializer>(histogram: &Histogram<u32>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(histogram).map_err(serde::ser::Error::custom)?)
}

pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Histogram<u32>, D::Error> {
    let text: String = serde::Deserialize::deserialize(deserializer)?;
    decode(&text).map_err(serde::de::Error::custom)
}

/// A map of histograms (by upstream index, say), each value encoded as above; used as a serde
/// `with` module.
pub mod by_key {
    use std::collections::BTreeMap;

    use hdrhistogram::Histogram;
    use serde::{ser::SerializeMap, Deserialize};

    pub fn serialize<S: serde::Serializer>(
        histograms: &BTreeMap<usize, Histogram<u32>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(histograms.len()))?;
        for (key, histogram) in histograms {
            map.serialize_entry(key, &super::encode(histogram).map_err(serde::ser::Error::custom)?)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<usize, Histogram<u32>>, D::Error> {
        let encoded = BTreeMap::<usize, String>::deserialize(deserializer)?;
        encoded
            .into_iter()
            .map(|(key, text)| Ok((key, super::decode(&text).map_err(serde::de::Error::custom)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::micros;

    #[test]
    fn round_trips_exactly_and_keeps_growing() {
        let mut histogram = micros::histogram::<u32>();
        for value in [1, 950, 1_000, 1_001, 2_000_000, 3_600_000_000] {
            micros::record(&mut histogram, value, 3);
        }
        let text = encode(&histogram).expect("encodes");
        let mut back = decode(&text).expect("decodes");
        assert_eq!(back, histogram);
        assert!(text.len() < 200, "{} bytes", text.len());
        micros::record(&mut back, 1, 1);
        assert_eq!(back.len(), histogram.len() + 1);
        let empty = encode(&micros::histogram()).expect("encodes");
        assert!(decode(&empty).expect("decodes").is_empty());
        assert!(decode("not base64!").unwrap_err().contains("base64"));
        assert!(decode("AAAA").unwrap_err().contains("HDR"));
    }
}
