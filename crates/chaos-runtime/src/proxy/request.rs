//! What the interposer reads from a request: the correlation id (for joins and, with the
//! attempt's number, keyed fault draws), the presented API key, and from the body its `model`,
//! `stream` flag and token estimates (from a Bedrock path its model and stream flag) (for faults, and to bill an answer that reports no usage).

use std::borrow::Cow;

use crate::wire::tokens;

/// A header's value as a number, if it is one.
pub fn header_number(headers: &http::HeaderMap, name: impl http::header::AsHeaderName) -> Option<u64> {
    headers.get(name).and_then(|value| value.to_str().ok()).and_then(|value| value.trim().parse().ok())
}

/// A key that names one attempt of one logical request, so its fault draws do not depend on
/// what other requests arrived first.
pub fn draw_key(logical_id: Option<u64>, retry_count: Option<u64>) -> Option<u64> {
    logical_id.map(|id| id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ retry_count.unwrap_or(0).rotate_left(32))
}

/// Numbers the attempts of each logical request as they reach the interposer (0, 1, 2 …), for
/// per-attempt fault draws. Bounded: it keeps the newest [`AttemptCounter::KEEP`] correlation
/// ids (the load generator's ids increase, and a request still retrying is among the newest).
#[derive(Debug, Default)]
pub struct AttemptCounter {
    seen: std::sync::Mutex<std::collections::HashMap<u64, u64>>,
}

impl AttemptCounter {
    /// How many correlation ids are remembered at least.
    pub const KEEP: usize = 65_536;

    /// This attempt's number for logical request `id`.
    pub fn next(&self, id: u64) -> u64 {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= 2 * Self::KEEP && !seen.contains_key(&id) {
            let mut ids: Vec<u64> = seen.keys().copied().collect();
            ids.sort_unstable();
            let oldest_kept = ids[ids.len() - Self::KEEP];
            seen.retain(|known, _| *known >= oldest_kept);
        }
        let count = seen.entry(id).or_insert(0);
        *count += 1;
        *count - 1
    }
}

/// Identifies a presented key for faults: its index in the known key list, else an opaque id
/// derived from it (high bit set, so it never equals an index). Never the key itself.
pub fn key_id(presented: Option<&str>, known: &[String]) -> Option<usize> {
    let presented = presented?;
    known.iter().position(|key| key == presented).or_else(|| {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        presented.hash(&mut hasher);
        Some(hasher.finish() as usize | (1 << (usize::BITS - 1)))
    })
}

/// The fields of a request body that faults can match on or count.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BodyFields {
    pub model: Option<String>,
    pub stream: Option<bool>,
    /// Estimated prompt tokens plus the output limit (the mocks' estimate, `wire::tokens`).
    pub tokens: Option<u64>,
    /// Estimated prompt tokens alone.
    pub prompt_tokens: Option<u64>,
    /// The load generator's correlation tag, `chaos-<id>`, from OpenAI's `user` or Anthropic's
    /// `metadata.user_id` (where a gateway that drops headers still passes it on).
    pub correlation: Option<u64>,
}

/// The fields read. A message's content is never kept: it is counted as it is parsed
/// ([`ContentChars`]), so a 200k-token prompt costs one pass and no copy.
#[derive(serde::Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    stream: Option<bool>,
    messages: Option<Vec<Message>>,
    system: Option<ContentChars>,
    /// A Gemini request's turns.
    contents: Option<Vec<Turn>>,
    #[serde(rename = "generationConfig")]
    generation_config: Option<GenerationConfig>,
    /// An embeddings request's texts or token ids.
    input: Option<super::input_tokens::InputTokens>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    /// Bedrock's Converse output limit, `inferenceConfig.maxTokens`.
    #[serde(rename = "inferenceConfig")]
    inference_config: Option<InferenceConfig>,
    #[serde(borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metadata: Option<Metadata<'a>>,
}

#[derive(serde::Deserialize)]
struct InferenceConfig {
    #[serde(rename = "maxTokens")]
    max_tokens: Option<u64>,
}

#[derive(serde::Deserialize)]
struct Message {
    #[serde(default)]
    content: ContentChars,
}

/// A Gemini turn: its parts' texts count as one message's content.
#[derive(serde::Deserialize)]
struct Turn {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(serde::Deserialize)]
struct Part {
    #[serde(default)]
    text: ContentChars,
}

#[derive(serde::Deserialize)]
struct GenerationConfig {
    /// Google's JSON takes a field by its proto name too (`max_output_tokens`, LiteLLM's).
    #[serde(rename = "maxOutputTokens", alias = "max_output_tokens")]
    max_output_tokens: Option<u64>,
}

#[derive(serde::Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    user_id: Option<Cow<'a, str>>,
}

/// The characters a message's content counts for, as [`tokens::content_chars`] counts them: a
/// string's own (decoded, without being copied), anything else as its compact JSON.
struct ContentChars(u64);

impl Default for ContentChars {
    /// No content counts as `null` does.
    fn default() -> Self {
        ContentChars(tokens::content_chars(&serde_json::Value::Null))
    }
}

impl<'de> serde::Deserialize<'de> for ContentChars {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl<'de> serde::de::Visitor<'de> for Count {
            type Value = ContentChars;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("message content")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ContentChars, E> {
                Ok(ContentChars(text.chars().count() as u64))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ContentChars, E> {
                Ok(ContentChars::default())
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<ContentChars, E> {
                Ok(ContentChars(tokens::content_chars(&value.into())))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ContentChars, E> {
                Ok(ContentChars(tokens::content_chars(&value.into())))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ContentChars, E> {
                Ok(ContentChars(tokens::content_chars(&value.into())))
            }
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ContentChars, E> {
                Ok(ContentChars(tokens::content_chars(&value.into())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<ContentChars, A::Error> {
                let value =
                    serde::Deserialize::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(ContentChars(tokens::content_chars(&value)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ContentChars, A::Error> {
                let value =
                    serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ContentChars(tokens::content_chars(&value)))
            }
        }
        deserializer.deserialize_any(Count)
    }
}

/// The id in a `chaos-<id>` tag.
fn correlation(tag: &str) -> Option<u64> {
    tag.strip_prefix("chaos-")?.parse().ok()
}

impl BodyFields {
    /// What the request's path says over its body: the deployment an Azure path names is the
    /// model; a Gemini path names the model and whether it streams; a Bedrock path
    /// (`/model/{modelId}/converse-stream`) fills them in where the body did not.
    pub fn named_by(mut self, path: &str) -> Self {
        if let Some(deployment) = crate::wire::azure::deployment(path) {
            self.model = Some(deployment.to_owned());
        } else if let Some((model, stream)) = crate::wire::gemini::generation(path) {
            (self.model, self.stream) = (Some(model.to_owned()), Some(stream));
        } else if let Some(converse) = crate::wire::bedrock::converse_path(path) {
            self.model = self.model.or(Some(converse.model));
            self.stream = self.stream.or(Some(converse.stream));
        }
        self
    }

    /// Reads the fields from a JSON body; a body that is not JSON has none.
    pub fn read(body: &[u8]) -> Self {
        let Ok(body) = serde_json::from_slice::<Body<'_>>(body) else { return BodyFields::default() };
        let contents: Vec<u64> = body
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| message.content.0)
            .chain(body.system.map(|system| system.0))
            .chain(
                body.contents
                    .unwrap_or_default()
                    .into_iter()
                    .map(|turn| turn.parts.iter().map(|p| p.text.0).sum()),
            )
            .collect();
        let output = body
            .max_completion_tokens
            .or(body.max_tokens)
            .or(body.inference_config.and_then(|config| config.max_tokens))
            .or(body.generation_config.and_then(|config| config.max_output_tokens))
            .unwrap_or(crate::wire::tokens::DEFAULT_OUTPUT_TOKENS);
        let chat = (!contents.is_empty()).then(|| tokens::prompt_tokens_of(contents.into_iter()));
        // An embeddings request generates nothing.
        let (prompt_tokens, output) = match body.input {
            Some(input) => (Some(input.0), 0),
            None => (chat, output),
        };
        let tag = body.user.or_else(|| body.metadata.and_then(|m| m.user_id));
        BodyFields {
            model: body.model.map(Cow::into_owned),
            stream: body.stream,
            tokens: prompt_tokens.map(|prompt| prompt + output),
            prompt_tokens,
            correlation: tag.as_deref().and_then(correlation),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_shards_requests_draw_their_faults_from_keys_of_their_own() {
        use crate::scenario::shard::Shard;
        // A fault's draw for an attempt depends on its key alone (`Chain::decide`): shards whose
        // attempts never share a key never share a draw, and the same shard's ids repeat them.
        let keys = |index| -> std::collections::BTreeSet<u64> {
            let shard = Shard { index, count: 2 };
            (1..=5_000)
                .flat_map(|local| {
                    (0..3).filter_map(move |retry| draw_key(Some(shard.id(local)), Some(retry)))
                })
                .collect()
        };
        let (zero, one) = (keys(0), keys(1));
        assert_eq!(zero.len(), 15_000, "every attempt its own key");
        assert!(zero.is_disjoint(&one));
        assert_eq!(keys(0), zero);
    }

    #[test]
    fn a_bedrock_request_gives_its_model_and_stream_by_its_path() {
        let body =
            br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":7}}"#;
        let fields = BodyFields::read(body)
            .named_by("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
        assert_eq!(fields.model.as_deref(), Some("anthropic.claude-3-haiku-20240307-v1:0"));
        assert_eq!(fields.stream, Some(true));
        assert_eq!(fields.tokens, fields.prompt_tokens.map(|prompt| prompt + 7));
        let openai = BodyFields::read(br#"{"model":"gpt-4o-mini"}"#).named_by("/v1/chat/completions");
        assert_eq!((openai.model.as_deref(), openai.stream), (Some("gpt-4o-mini"), None));
    }

    #[test]
    fn a_gemini_path_names_the_model_and_the_stream_and_its_turns_count_as_messages() {
        let body = br#"{"contents":[{"role":"user","parts":[{"text":"12345678"}]}],"generationConfig":{"maxOutputTokens":50}}"#;
        let fields = BodyFields::read(body).named_by("/v1beta/models/gemini-2.0-flash:streamGenerateContent");
        assert_eq!((fields.model.as_deref(), fields.stream), (Some("gemini-2.0-flash"), Some(true)));
        let as_chat =
            BodyFields::read(br#"{"max_tokens":50,"messages":[{"role":"user","content":"12345678"}]}"#);
        assert_eq!(fields.tokens, as_chat.tokens, "counted as the same chat message");
        let proto_name = BodyFields::read(
            br#"{"contents":[{"role":"user","parts":[{"text":"12345678"}]}],"generationConfig":{"max_output_tokens":50}}"#,
        );
        assert_eq!(proto_name.tokens, as_chat.tokens, "the limit by its proto name, as LiteLLM sends it");
        assert!(fields.tokens.is_some());
    }

    #[test]
    fn an_azure_path_names_the_model() {
        let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}"#;
        let fields = BodyFields::read(body).named_by("/openai/deployments/prod-mini/chat/completions");
        assert_eq!((fields.model.as_deref(), fields.stream), (Some("prod-mini"), Some(true)));
        let openai = BodyFields::read(body).named_by("/v1/chat/completions");
        assert_eq!(openai.model.as_deref(), Some("gpt-4o"));
    }

    #[test]
    fn reads_model_and_stream_and_ignores_the_rest() {
        let fields = BodyFields::read(br#"{"model":"gpt-4o","messages":[{"role":"user"}],"stream":true}"#);
        assert_eq!(fields.model.as_deref(), Some("gpt-4o"));
        assert_eq!(fields.stream, Some(true));
        let sized = BodyFields::read(
            br#"{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"12345678"}]}"#,
        );
        assert_eq!(sized.tokens, Some(2 + 4 + 3 + 50), "content, framing, priming, output");
        assert_eq!(sized.prompt_tokens, Some(2 + 4 + 3));
        assert_eq!(BodyFields::read(b"not json"), BodyFields::default());
    }

    #[test]
    fn the_borrowed_estimate_counts_as_the_mocks_estimate_does() {
        // Escapes, content parts, a message without content, and Anthropic's `system`.
        let body = serde_json::json!({
            "model": "m",
            "system": "be \"brief\"\n",
            "messages": [
                { "role": "user", "content": "tab\tquote\" é ünïcödé" },
                { "role": "user", "content": [{ "type": "text", "text": "parts" }] },
                { "role": "assistant" }
            ]
        });
        let fields = BodyFields::read(&serde_json::to_vec(&body).unwrap());
        let mut messages = body["messages"].as_array().unwrap().clone();
        messages.push(serde_json::json!({ "content": body["system"] }));
        assert_eq!(fields.prompt_tokens, Some(tokens::prompt_tokens(&messages)));
    }

    #[test]
    fn an_embeddings_request_counts_its_input_and_no_output() {
        let fields = BodyFields::read(
            br#"{"model":"text-embedding-3-small","input":["abcdefgh","abcd"],"user":"chaos-9","encoding_format":"base64"}"#,
        );
        assert_eq!((fields.prompt_tokens, fields.tokens, fields.correlation), (Some(3), Some(3), Some(9)));
        assert_eq!(fields.model.as_deref(), Some("text-embedding-3-small"));
    }

    #[test]
    fn the_correlation_tag_is_read_from_either_apis_body_field() {
        let openai = BodyFields::read(br#"{"model":"m","messages":[],"user":"chaos-42"}"#);
        let anthropic = BodyFields::read(br#"{"model":"m","messages":[],"metadata":{"user_id":"chaos-7"}}"#);
        let foreign = BodyFields::read(br#"{"model":"m","messages":[],"user":"alice"}"#);
        assert_eq!(
            (openai.correlation, anthropic.correlation, foreign.correlation),
            (Some(42), Some(7), None)
        );
    }

    #[test]
    fn attempts_are_numbered_per_request_and_the_memory_is_bounded() {
        let counter = AttemptCounter::default();
        assert_eq!([counter.next(7), counter.next(7), counter.next(8), counter.next(7)], [0, 1, 0, 2]);
        for id in 100..100 + 3 * AttemptCounter::KEEP as u64 {
            counter.next(id);
        }
        let remembered = counter.seen.lock().unwrap().len();
        assert!(remembered <= 2 * AttemptCounter::KEEP, "{remembered}");
        let newest = 100 + 3 * AttemptCounter::KEEP as u64 - 1;
        assert_eq!(counter.next(newest), 1, "the newest requests are still counted");
    }

    #[test]
    fn each_attempt_of_each_request_has_its_own_draw_key() {
        assert_ne!(draw_key(Some(1), Some(0)), draw_key(Some(1), Some(1)));
        assert_ne!(draw_key(Some(1), Some(0)), draw_key(Some(2), Some(0)));
        assert_eq!(draw_key(None, Some(0)), None);
    }
}
