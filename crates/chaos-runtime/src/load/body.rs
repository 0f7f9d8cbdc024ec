//! One logical request on the wire, in either API family: path, auth headers and JSON body,
//! with the correlation tag in the body where the API has a place for it (OpenAI `user`,
//! Anthropic `metadata.user_id`), as well as in the `x-chaos-request-id` header. A request the
//! scenario shapes itself ([`RequestShape`]) adds its own headers, and may send its own body
//! instead ([`render`]); the header still carries the correlation id.

use bytes::Bytes;

use crate::scenario::request_mix::RequestEndpoint;
/// The request a body is written for, drawn from the plan's mix (kept at this path for the
/// body's callers, benches and tests).
pub use crate::scenario::request_mix::RequestSpec;
use crate::scenario::request_shape::{RequestShape, RequestValues};
use crate::wire::{tokens, ApiFamily};

/// The Anthropic API version the client announces.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Output limit sent to Anthropic when the scenario gives none (the API requires one).
const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 1024;

/// The request path of each family's generation endpoint, where it is fixed (see
/// [`model_path`] for the families whose path names the model: Azure, Gemini, Bedrock).
pub fn path(family: ApiFamily) -> &'static str {
    match family {
        ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Gemini | ApiFamily::Bedrock => {
            "/v1/chat/completions"
        }
        ApiFamily::Anthropic => "/v1/messages",
    }
}

/// The path of `spec` in a family whose path names the model: Azure's
/// `/openai/deployments/{deployment}/chat/completions?api-version=…` (or `…/embeddings…`), the
/// model's name its deployment's; Gemini's `/v1beta/models/{model}:generateContent` (or
/// `:streamGenerateContent?alt=sse`); Bedrock's `/model/{modelId}/converse` (or
/// `…/converse-stream`), as boto3 writes it; the model percent-encoded. `None` where the path is
/// fixed ([`path`]).
pub fn model_path(family: ApiFamily, spec: &RequestSpec) -> Option<String> {
    let model = percent_encoded(&spec.model);
    match family {
        ApiFamily::Azure => {
            let operation = match spec.endpoint {
                RequestEndpoint::Embeddings { .. } => "embeddings",
                RequestEndpoint::Chat => "chat/completions",
            };
            let (deployments, version) = (crate::wire::azure::DEPLOYMENTS, crate::wire::azure::API_VERSION);
            Some(format!("{deployments}{model}/{operation}?api-version={version}"))
        }
        ApiFamily::Gemini if spec.stream => {
            Some(format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"))
        }
        ApiFamily::Gemini => Some(format!("/v1beta/models/{model}:generateContent")),
        ApiFamily::Bedrock if spec.stream => Some(format!("/model/{model}/converse-stream")),
        ApiFamily::Bedrock => Some(format!("/model/{model}/converse")),
        ApiFamily::OpenAi | ApiFamily::Anthropic => None,
    }
}

/// `text` with every byte but RFC 3986's unreserved ones percent-encoded, fit for a path segment.
fn percent_encoded(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The body of logical request `id`; `prompt` is the prompt text of the largest size the load
/// uses, and a prefix of it gives each request its size.
///
/// Written from a template of the family's fixed shape rather than serialized field by field:
/// the generator builds one for every request, and serde_json escapes a string a byte at a time
/// (~13 instructions a byte, most of a body's cost with a 100-token prompt: `benches/
/// generator_instructions.sh`), while the generated prompt never needs an escape and is copied
/// as it is ([`json_string`]). The keys are in the order the SDKs send them.
pub fn body(family: ApiFamily, spec: &RequestSpec, prompt: &str, id: u64) -> Bytes {
    if let RequestEndpoint::Embeddings { inputs } = spec.endpoint {
        return super::embeddings_body::body(spec, inputs, prompt, id);
    }
    let content = prompt_of(spec, prompt);
    match family {
        ApiFamily::Gemini => return super::gemini_body::body(content, spec.max_tokens),
        ApiFamily::Bedrock => return super::bedrock_body::body(content, spec.max_tokens),
        ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Anthropic => {}
    }
    let chars = content.len();
    let model = &*spec.model;
    // Room for the whole body up front, so a huge prompt is copied once.
    let mut written = Vec::with_capacity(chars + model.len() + BODY_OVERHEAD);
    written.extend_from_slice(b"{\"model\":");
    json_string(&mut written, model);
    written.extend_from_slice(b",\"messages\":[{\"role\":\"user\",\"content\":");
    json_string(&mut written, content);
    written.extend_from_slice(b"}],");
    let mut number = itoa::Buffer::new();
    match family {
        ApiFamily::OpenAi | ApiFamily::Azure => {
            written.extend_from_slice(b"\"user\":\"chaos-");
            written.extend_from_slice(number.format(id).as_bytes());
            written.push(b'"');
            if let Some(max) = spec.max_tokens {
                written.extend_from_slice(b",\"max_completion_tokens\":");
                written.extend_from_slice(number.format(max).as_bytes());
            }
            if spec.stream {
                written.extend_from_slice(b",\"stream\":true,\"stream_options\":{\"include_usage\":true}");
            }
        }
        // (Gemini's and Bedrock's bodies were written above, in their own shapes.)
        ApiFamily::Anthropic | ApiFamily::Gemini | ApiFamily::Bedrock => {
            written.extend_from_slice(b"\"metadata\":{\"user_id\":\"chaos-");
            written.extend_from_slice(number.format(id).as_bytes());
            written.extend_from_slice(b"\"},\"max_tokens\":");
            let max = spec.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS);
            written.extend_from_slice(number.format(max).as_bytes());
            if spec.stream {
                written.extend_from_slice(b",\"stream\":true");
            }
        }
    }
    written.push(b'}');
    Bytes::from(written)
}

/// The prefix of `prompt` (the largest prompt's text) that gives `spec` its size.
fn prompt_of<'a>(spec: &RequestSpec, prompt: &'a str) -> &'a str {
    &prompt[..tokens::prompt_chars(u64::from(spec.prompt_tokens)).min(prompt.len())]
}

/// What logical request `id` sends on one route: its body, and its own header lines
/// (`name: value\r\n` each, empty when it has none).
pub struct Rendered {
    pub body: Bytes,
    pub headers: Vec<u8>,
}

/// The body and headers of logical request `id` presenting `key`: the family's own body
/// ([`body`]) unless the scenario gives one, each placeholder filled ([`RequestShape`]).
pub fn render(family: ApiFamily, spec: &RequestSpec, prompt: &str, id: u64, key: &str) -> Rendered {
    let Some(shape) = spec.shape.as_deref() else {
        return Rendered { body: body(family, spec, prompt, id), headers: Vec::new() };
    };
    let values = RequestValues {
        request_id: id,
        key,
        model: &spec.model,
        max_tokens: spec.max_tokens,
        prompt: prompt_of(spec, prompt),
    };
    let RequestShape { headers: shaped, body: shaped_body } = shape;
    let mut headers = Vec::new();
    for (name, value) in shaped {
        headers.extend_from_slice(name.as_str().as_bytes());
        headers.extend_from_slice(b": ");
        value.write_raw(&values, &mut headers);
        headers.extend_from_slice(b"\r\n");
    }
    let body = match shaped_body {
        Some(template) => {
            let mut written = Vec::with_capacity(values.prompt.len() + BODY_OVERHEAD);
            template.write_json(&values, &mut written);
            Bytes::from(written)
        }
        None => body(family, spec, prompt, id),
    };
    Rendered { body, headers }
}

/// A body of one user turn of one text block, `turn` opening it up to the text's value, and
/// `{limit}N}` after the turn when the request sets an output limit `N` (Gemini's and Bedrock's
/// shapes: [`super::gemini_body`], [`super::bedrock_body`]).
pub(super) fn one_text_turn(turn: &[u8], limit: &[u8], prompt: &str, max_tokens: Option<u32>) -> Bytes {
    let mut written = Vec::with_capacity(prompt.len() + 96);
    written.extend_from_slice(turn);
    json_string(&mut written, prompt);
    written.extend_from_slice(b"}]}]");
    if let Some(max) = max_tokens {
        written.push(b',');
        written.extend_from_slice(limit);
        written.extend_from_slice(itoa::Buffer::new().format(max).as_bytes());
        written.push(b'}');
    }
    written.push(b'}');
    Bytes::from(written)
}

/// Writes `text` as a JSON string: copied as it is when none of its characters needs an escape
/// (a quote, a backslash or a control character), escaped by serde_json otherwise.
pub(super) fn json_string(out: &mut Vec<u8>, text: &str) {
    if !needs_escape(text.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Serializing a string into memory cannot fail.
        let _ = serde_json::to_writer(out, text);
    }
}

/// Whether any byte of `text` is a quote, a backslash or a control character. Each block of 64 is
/// checked whole, with no early exit inside it, so the check runs on vector registers: check and
/// copy of a 372-byte prompt took ~700 instructions, against ~4,000 with a byte-by-byte `all`
/// (callgrind, `benches/generator_instructions.sh`).
fn needs_escape(text: &[u8]) -> bool {
    text.chunks(64).any(|block| {
        block.iter().fold(false, |found, &byte| found | (byte < 0x20) | (byte == b'"') | (byte == b'\\'))
    })
}

/// A body's bytes besides its prompt and model: keys, punctuation, the tag, numbers (~170 at
/// most).
const BODY_OVERHEAD: usize = 192;

/// One key, as each family's authentication header carries it: built once per key, so a request
/// only clones them (building `Bearer …` and checking it byte by byte cost ~1,800 instructions a
/// request). Both values are marked sensitive.
#[derive(Clone)]
pub struct Credentials {
    /// `authorization: Bearer <key>` (OpenAI; Bedrock, whose API keys go as `Bearer`).
    bearer: http::HeaderValue,
    /// `x-api-key: <key>` (Anthropic), `api-key: <key>` (Azure), `x-goog-api-key: <key>` (Gemini).
    key: http::HeaderValue,
    /// The key itself, for a request's own `{{key}}`.
    raw: std::sync::Arc<str>,
}

impl Credentials {
    /// An error for a key that cannot be a header value.
    pub fn new(api_key: &str) -> Result<Self, http::header::InvalidHeaderValue> {
        let mut bearer = http::HeaderValue::try_from(format!("Bearer {api_key}"))?;
        let mut key = http::HeaderValue::from_str(api_key)?;
        bearer.set_sensitive(true);
        key.set_sensitive(true);
        Ok(Credentials { bearer, key, raw: std::sync::Arc::from(api_key) })
    }

    /// The key, for a request's own headers and body (never a log).
    pub fn key(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Debug for Credentials {
    /// Never the key itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// Writes each family's authentication (and, for Anthropic, version) header lines.
pub fn write_credentials(head: &mut Vec<u8>, family: ApiFamily, credentials: &Credentials) {
    let lines: &[(&str, &[u8])] = match family {
        ApiFamily::OpenAi | ApiFamily::Bedrock => &[("authorization", credentials.bearer.as_bytes())],
        ApiFamily::Azure => &[(crate::wire::azure::KEY_HEADER, credentials.key.as_bytes())],
        ApiFamily::Gemini => &[(crate::wire::gemini::KEY_HEADER, credentials.key.as_bytes())],
        ApiFamily::Anthropic => {
            &[("anthropic-version", ANTHROPIC_VERSION.as_bytes()), ("x-api-key", credentials.key.as_bytes())]
        }
    };
    for (name, value) in lines {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn spec(stream: bool, max_tokens: Option<u32>) -> RequestSpec {
        RequestSpec {
            api: ApiFamily::OpenAi,
            model: Arc::from("m"),
            stream,
            endpoint: Default::default(),
            prompt_tokens: 100,
            max_tokens,
            shape: None,
            agent: None,
        }
    }

    #[test]
    fn each_family_carries_the_tag_where_its_api_has_a_place() {
        let prompt = tokens::prompt_text(1000);
        let openai: serde_json::Value =
            serde_json::from_slice(&body(ApiFamily::OpenAi, &spec(true, Some(9)), &prompt, 7)).unwrap();
        assert_eq!(openai["user"], "chaos-7");
        assert_eq!(openai["max_completion_tokens"], 9);
        assert_eq!(openai["stream_options"]["include_usage"], true);
        let anthropic: serde_json::Value =
            serde_json::from_slice(&body(ApiFamily::Anthropic, &spec(false, None), &prompt, 7)).unwrap();
        assert_eq!(anthropic["metadata"]["user_id"], "chaos-7");
        assert_eq!(anthropic["max_tokens"], ANTHROPIC_DEFAULT_MAX_TOKENS);
        assert!(anthropic.get("stream").is_none());
    }

    #[test]
    fn the_openai_body_is_byte_for_byte_the_one_the_benchmarks_give_oha() {
        let spec = RequestSpec { max_tokens: Some(1), ..spec(false, None) };
        let spec = RequestSpec { model: Arc::from("gpt-4o-mini"), ..spec };
        let sent = body(ApiFamily::OpenAi, &spec, &tokens::prompt_text(1000), 1);
        let prompt = "lore".repeat(93);
        let expected = format!(
            r#"{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"{prompt}"}}],"user":"chaos-1","max_completion_tokens":1}}"#
        );
        assert_eq!(std::str::from_utf8(&sent).unwrap(), expected);
    }

    #[test]
    fn text_that_needs_escapes_is_escaped_and_reads_back_the_same() {
        let model = "gpt-\"4\"\\mini\n\u{1}é";
        // Escapes from the first byte on, and one alone well past the first block of 64.
        let prompts =
            ["say \"hi\"\\\ttwice ".repeat(40), format!("{}\"{}", "a".repeat(200), "b".repeat(300))];
        let spec = RequestSpec { model: Arc::from(model), ..spec(true, Some(3)) };
        for (family, prompt) in [ApiFamily::OpenAi, ApiFamily::Anthropic]
            .into_iter()
            .zip(&prompts)
            .chain([(ApiFamily::OpenAi, &prompts[1]), (ApiFamily::Anthropic, &prompts[0])])
        {
            let sent: serde_json::Value = serde_json::from_slice(&body(family, &spec, prompt, 9)).unwrap();
            assert_eq!(sent["model"], model);
            let content = sent["messages"][0]["content"].as_str().unwrap();
            assert!(content.len() > 300 && prompt.starts_with(content), "{content:?}");
            assert_eq!(sent["stream"], true);
        }
    }

    #[test]
    fn a_bedrock_request_names_its_model_in_the_path_as_boto3_does_and_reads_back() {
        let model = "anthropic.claude-3-haiku-20240307-v1:0";
        for (stream, operation) in [(true, "converse-stream"), (false, "converse")] {
            let spec = RequestSpec { model: Arc::from(model), ..spec(stream, Some(9)) };
            let path = model_path(ApiFamily::Bedrock, &spec).expect("Bedrock's path names the model");
            assert_eq!(path, format!("/model/anthropic.claude-3-haiku-20240307-v1%3A0/{operation}"));
            let read = crate::wire::bedrock::converse_path(&path).expect("the mock's reading");
            assert_eq!((read.model.as_str(), read.stream), (model, stream));
            let sent: serde_json::Value =
                serde_json::from_slice(&body(ApiFamily::Bedrock, &spec, &tokens::prompt_text(1000), 7))
                    .unwrap();
            assert_eq!(sent["inferenceConfig"]["maxTokens"], 9);
            assert!(sent["messages"][0]["content"][0]["text"].as_str().is_some_and(|t| t.len() > 300));
            assert!(sent.get("model").is_none() && sent.get("stream").is_none(), "both are in the path");
        }
    }

    #[test]
    fn a_prefix_of_the_largest_prompt_estimates_to_the_asked_size() {
        let prompt = tokens::prompt_text(5000);
        let sent: serde_json::Value =
            serde_json::from_slice(&body(ApiFamily::OpenAi, &spec(false, None), &prompt, 1)).unwrap();
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(tokens::prompt_tokens(messages), 100);
    }
}
