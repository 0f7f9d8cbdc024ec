//! OpenAI's embeddings, `POST /v1/embeddings`: `input` a string, a list of strings, a list of
//! token ids or a list of such lists; `encoding_format` `float` (the default) or `base64`
//! (little-endian `f32`s, as the openai SDK decodes them); `dimensions` up to the model's own
//! (text-embedding-3-small 1536, -3-large 3072), refused on ada-002 as OpenAI does.
//!
//! Each vector is drawn from a generator seeded by the model and its input, then scaled to unit
//! norm: the same input always embeds the same, and a shorter `dimensions` is the longer
//! vector's prefix renormalised, as OpenAI's shortened embeddings are. Tokens are counted as the
//! mock counts a prompt (one per 4 characters, rounded up) without a chat message's framing; a
//! token id is one token. An answer has no output tokens and is never streamed.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::Serialize;
use serde_json::Value;

use super::generation::{Ask, Endpoint, Generation};
use crate::wire::{openai, tokens::CHARS_PER_TOKEN, CannedResponse};

/// The request path.
pub const PATH: &str = "/v1/embeddings";

/// The most inputs one request may carry.
const MAX_INPUTS: usize = 2048;
/// The most tokens one input may have (every current embeddings model's context).
const MAX_INPUT_TOKENS: u64 = 8192;
/// Dimensions of a model not listed in [`native_dimensions`].
const DEFAULT_DIMENSIONS: usize = 1536;

/// What an embeddings request asked for, beyond [`Ask`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingsAsk {
    /// One seed per input, in order.
    pub seeds: Vec<u64>,
    pub dimensions: usize,
    pub base64: bool,
}

/// A model's own dimensions, and whether it takes `dimensions`.
fn native_dimensions(model: &str) -> (usize, bool) {
    match model {
        m if m.starts_with("text-embedding-3-large") => (3072, true),
        m if m.starts_with("text-embedding-ada-002") => (1536, false),
        _ => (DEFAULT_DIMENSIONS, true),
    }
}

fn bad_request(message: &str, param: &str, code: Option<&str>) -> CannedResponse {
    openai::error(400, message, "invalid_request_error", Some(param), code)
}

fn invalid_input() -> CannedResponse {
    bad_request(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        "input",
        None,
    )
}

/// Reads an embeddings request, or the 400 OpenAI sends for it.
pub fn parse(request: &Value) -> Result<Ask, CannedResponse> {
    let model = request["model"].as_str().ok_or_else(|| {
        openai::error(400, "you must provide a model parameter", "invalid_request_error", None, None)
    })?;
    if request.get("input").is_none() {
        return Err(bad_request(
            "Missing required parameter: 'input'.",
            "input",
            Some("missing_required_parameter"),
        ));
    }
    let inputs = inputs(&request["input"]).ok_or_else(invalid_input)?;
    let base64 = match &request["encoding_format"] {
        Value::Null => false,
        Value::String(format) if format == "float" => false,
        Value::String(format) if format == "base64" => true,
        other => {
            let message = format!("{other} is not one of ['float', 'base64'] - 'encoding_format'");
            return Err(bad_request(&message, "encoding_format", None));
        }
    };
    let dimensions = dimensions(model, &request["dimensions"])?;
    let mut prompt_tokens = 0;
    let mut seeds = Vec::with_capacity(inputs.len());
    for (tokens, seed) in inputs {
        if tokens > MAX_INPUT_TOKENS {
            let message = format!("This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however you requested {tokens} tokens ({tokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.");
            return Err(bad_request(&message, "input", Some("context_length_exceeded")));
        }
        prompt_tokens += tokens;
        seeds.push(seed ^ fnv1a(model.as_bytes()));
    }
    Ok(Ask {
        model: model.to_owned(),
        prompt_tokens,
        // Nothing is generated: the limiter and the latency model see no output.
        limit: Some(0),
        stream: false,
        include_usage: false,
        endpoint: Endpoint::Embeddings,
        embeddings: Some(Arc::new(EmbeddingsAsk { seeds, dimensions, base64 })),
        tools: None,
    })
}

/// Each input's tokens and seed; `None` when `input` is none of the four shapes, is empty, or
/// holds an empty string or list.
fn inputs(input: &Value) -> Option<Vec<(u64, u64)>> {
    let one = |input: &Value| match input {
        Value::String(text) if !text.is_empty() => {
            Some(((text.chars().count() as u64).div_ceil(CHARS_PER_TOKEN), fnv1a(text.as_bytes())))
        }
        Value::Array(ids) if !ids.is_empty() => {
            let ids: Option<Vec<u64>> = ids.iter().map(Value::as_u64).collect();
            let bytes: Vec<u8> = ids?.iter().flat_map(|id| id.to_le_bytes()).collect();
            Some((ids_len(input), fnv1a(&bytes) ^ 1))
        }
        _ => None,
    };
    match input {
        Value::Array(items) if items.iter().all(Value::is_u64) => one(input).map(|input| vec![input]),
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_INPUTS => {
            let strings = items.iter().all(Value::is_string);
            let lists = items.iter().all(Value::is_array);
            (strings || lists).then(|| items.iter().map(one).collect()).flatten()
        }
        Value::Array(_) => None,
        single => one(single).map(|input| vec![input]),
    }
}

fn ids_len(input: &Value) -> u64 {
    input.as_array().map_or(0, |ids| ids.len() as u64)
}

/// The dimensions asked for, or the model's own; the 400 for a value the model refuses.
fn dimensions(model: &str, asked: &Value) -> Result<usize, CannedResponse> {
    let (native, shortens) = native_dimensions(model);
    if asked.is_null() {
        return Ok(native);
    }
    if !shortens {
        return Err(bad_request("This model does not support specifying dimensions.", "dimensions", None));
    }
    match asked.as_u64() {
        Some(n) if (1..=native as u64).contains(&n) => Ok(n as usize),
        _ => {
            let message =
                format!("Invalid value for 'dimensions' = {asked}. Must be between 1 and {native}.");
            Err(bad_request(&message, "dimensions", Some("invalid_value")))
        }
    }
}

/// FNV-1a, 64 bits: a stable seed from bytes (the same in every build and run).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3))
}

/// The unit vector of `dimensions` components that `seed` embeds as.
pub fn vector(seed: u64, dimensions: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let raw: Vec<f64> = (0..dimensions).map(|_| rng.random_range(-1.0..1.0)).collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    raw.iter().map(|x| (x / norm) as f32).collect()
}

/// The answer, in OpenAI's key order.
#[derive(Serialize)]
struct Answer<'a> {
    object: &'static str,
    data: Vec<Item>,
    model: &'a str,
    usage: Usage,
}

#[derive(Serialize)]
struct Item {
    object: &'static str,
    index: usize,
    embedding: Embedding,
}

/// Floats written as `f32`s (`-0.024917772`, as OpenAI's are), not widened to `f64`'s digits.
#[derive(Serialize)]
#[serde(untagged)]
enum Embedding {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// The whole answer's body (JSON).
pub fn complete(generation: &Generation) -> Bytes {
    let no_inputs = EmbeddingsAsk { seeds: Vec::new(), dimensions: 0, base64: false };
    let ask = generation.embeddings.as_deref().unwrap_or(&no_inputs);
    let data = ask
        .seeds
        .iter()
        .enumerate()
        .map(|(index, seed)| {
            let vector = vector(*seed, ask.dimensions);
            let embedding = if ask.base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                Embedding::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                Embedding::Float(vector)
            };
            Item { object: "embedding", index, embedding }
        })
        .collect();
    let tokens = generation.prompt_tokens;
    let usage = Usage { prompt_tokens: tokens, total_tokens: tokens };
    let answer = Answer { object: "list", data, model: &generation.model, usage };
    // Serializing plain structs into memory cannot fail.
    Bytes::from(serde_json::to_vec(&answer).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ask(body: Value) -> Result<Ask, CannedResponse> {
        parse(&body)
    }

    fn error_of(refused: Result<Ask, CannedResponse>) -> (u16, Value) {
        let response = refused.expect_err("refused");
        (response.status, serde_json::from_slice::<Value>(&response.body).expect("json")["error"].clone())
    }

    fn answer(body: Value) -> Value {
        let ask = ask(body).expect("accepted");
        let latency = crate::scenario::mock_answer::LatencyModel {
            ttft: std::time::Duration::ZERO,
            tokens_per_second: 0.0,
            jitter: 0.0,
        };
        let generation = Generation::new(
            ask,
            latency,
            crate::scenario::mock_answer::OutputLength::Fixed(50),
            StdRng::seed_from_u64(1),
        );
        assert_eq!(generation.output_tokens, 0, "an embedding generates nothing");
        serde_json::from_slice(&complete(&generation)).expect("JSON")
    }

    fn floats(embedding: &Value) -> Vec<f32> {
        match embedding {
            Value::String(text) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("base64")
                .chunks(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            list => list
                .as_array()
                .expect("a list")
                .iter()
                .map(|x| x.as_f64().expect("a number") as f32)
                .collect(),
        }
    }

    fn norm(vector: &[f32]) -> f64 {
        vector.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt()
    }

    #[test]
    fn every_input_shape_embeds_one_unit_vector_per_input_with_its_tokens_counted() {
        let cases = [
            (json!("abcdefghi"), 1, 3),
            (json!(["abcd", "abcdefgh"]), 2, 3),
            (json!([1, 2, 3, 4, 5]), 1, 5),
            (json!([[1, 2], [3, 4, 5]]), 2, 5),
        ];
        for (input, count, tokens) in cases {
            let body = answer(json!({ "model": "text-embedding-3-small", "input": input }));
            let data = body["data"].as_array().expect("data");
            assert_eq!(data.len(), count, "{input}");
            for (index, item) in data.iter().enumerate() {
                assert_eq!(
                    (item["object"].as_str(), item["index"].as_u64()),
                    (Some("embedding"), Some(index as u64))
                );
                let vector = floats(&item["embedding"]);
                assert_eq!(vector.len(), 1536);
                assert!((norm(&vector) - 1.0).abs() < 1e-5, "{input}");
            }
            assert_eq!(body["usage"], json!({ "prompt_tokens": tokens, "total_tokens": tokens }), "{input}");
        }
    }

    #[test]
    fn vectors_are_seeded_by_input_and_model_and_base64_carries_the_same_floats() {
        let embed = |model: &str, input: &str, format: &str| {
            let body = answer(json!({ "model": model, "input": input, "encoding_format": format }));
            floats(&body["data"][0]["embedding"])
        };
        let small = embed("text-embedding-3-small", "hello", "float");
        assert_eq!(small, embed("text-embedding-3-small", "hello", "float"), "deterministic");
        assert_eq!(small, embed("text-embedding-3-small", "hello", "base64"), "base64 is little-endian f32");
        assert_ne!(small, embed("text-embedding-3-small", "hullo", "float"));
        assert_ne!(small[..8], embed("text-embedding-3-large", "hello", "float")[..8]);
        assert_eq!(embed("text-embedding-3-large", "hello", "float").len(), 3072);
    }

    #[test]
    fn a_shorter_dimensions_is_the_longer_vectors_prefix_renormalised() {
        let body = |dimensions| {
            answer(json!({ "model": "text-embedding-3-large", "input": "x", "dimensions": dimensions }))
        };
        let full = floats(&body(3072)["data"][0]["embedding"]);
        let short = floats(&body(256)["data"][0]["embedding"]);
        assert_eq!(short.len(), 256);
        assert!((norm(&short) - 1.0).abs() < 1e-5);
        let scale = norm(&full[..256]);
        for (s, f) in short.iter().zip(&full) {
            assert!((f64::from(*s) * scale - f64::from(*f)).abs() < 1e-5);
        }
    }

    #[test]
    fn bad_input_gets_openais_400_naming_the_parameter() {
        let refused = |body: Value| error_of(ask(body));
        let small = "text-embedding-3-small";
        for input in [json!(""), json!([]), json!([""]), json!(["a", 1]), json!([[]]), json!(7.5), json!({})]
        {
            let (status, error) = refused(json!({ "model": small, "input": input }));
            assert_eq!((status, error["param"].as_str()), (400, Some("input")), "{input}");
        }
        let (_, missing) = refused(json!({ "model": small }));
        assert_eq!(missing["code"], "missing_required_parameter");
        let (_, ada) = refused(json!({ "model": "text-embedding-ada-002", "input": "a", "dimensions": 256 }));
        assert_eq!(
            (ada["message"].as_str(), ada["param"].as_str()),
            (Some("This model does not support specifying dimensions."), Some("dimensions"))
        );
        let (_, large) = refused(json!({ "model": small, "input": "a", "dimensions": 1537 }));
        assert_eq!(large["param"], "dimensions");
        let (_, zero) = refused(json!({ "model": small, "input": "a", "dimensions": 0 }));
        assert_eq!(zero["param"], "dimensions");
        let (_, format) = refused(json!({ "model": small, "input": "a", "encoding_format": "int8" }));
        assert_eq!(format["param"], "encoding_format");
        let (_, long) = refused(json!({ "model": small, "input": "abcd".repeat(8193) }));
        assert_eq!(
            (long["param"].as_str(), long["code"].as_str()),
            (Some("input"), Some("context_length_exceeded"))
        );
        let (_, many) = refused(json!({ "model": small, "input": vec!["a"; MAX_INPUTS + 1] }));
        assert_eq!(many["param"], "input");
        assert!(ask(json!({ "model": "text-embedding-ada-002", "input": vec!["a"; MAX_INPUTS] })).is_ok());
    }
}
