//! One logical request on the wire, in either API family: path, auth headers and JSON body,
//! with the correlation tag in the body where the API has a place for it (OpenAI `user`,
//! Anthropic `metadata.user_id`), as well as in the `x-chaos-request-id` header.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::wire::{tokens, ApiFamily};

/// The Anthropic API version the client announces.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// What one logical request asks for, whatever the family it is sent in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The format it is sent in when the target takes any (a gateway's URL); the built-in
    /// client sends each attempt in its upstream's format instead.
    pub api: ApiFamily,
    pub model: Arc<str>,
    pub stream: bool,
    pub prompt_tokens: u32,
    /// `max_tokens` / `max_completion_tokens`; Anthropic requires one, so it gets a default.
    pub max_tokens: Option<u32>,
}

/// Output limit sent to Anthropic when the scenario gives none (the API requires one).
const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 1024;

/// The request path of each family's generation endpoint.
pub fn path(family: ApiFamily) -> &'static str {
    match family {
        ApiFamily::OpenAi => "/v1/chat/completions",
        ApiFamily::Anthropic => "/v1/messages",
    }
}

/// One user message.
#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A Chat Completions request, serialized straight from borrowed fields (no JSON tree).
#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: [Message<'a>; 1],
    user: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

/// A Messages request.
#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    messages: [Message<'a>; 1],
    metadata: Metadata<'a>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

/// The body of logical request `id`; `prompt` is the prompt text of the largest size the load
/// uses, and a prefix of it gives each request its size.
pub fn body(family: ApiFamily, spec: &RequestSpec, prompt: &str, id: u64) -> Bytes {
    let chars = tokens::prompt_chars(u64::from(spec.prompt_tokens)).min(prompt.len());
    let messages = [Message { role: "user", content: &prompt[..chars] }];
    let tag = format!("chaos-{id}");
    let model = &*spec.model;
    // Room for a usual body up front (growing the buffer as it filled copied it ~8 times); a
    // huge prompt's grows as it fills, which measured faster than reserving for it.
    let size = chars + model.len() + tag.len() + BODY_OVERHEAD;
    let mut written = Vec::with_capacity(if size <= RESERVE_AT_MOST { size } else { 0 });
    let serialized = match family {
        ApiFamily::OpenAi => serde_json::to_writer(
            &mut written,
            &ChatRequest {
                model,
                messages,
                user: &tag,
                max_completion_tokens: spec.max_tokens,
                stream: spec.stream,
                stream_options: spec.stream.then_some(StreamOptions { include_usage: true }),
            },
        ),
        ApiFamily::Anthropic => serde_json::to_writer(
            &mut written,
            &MessagesRequest {
                model,
                messages,
                metadata: Metadata { user_id: &tag },
                max_tokens: spec.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS),
                stream: spec.stream,
            },
        ),
    };
    // Serializing strings and numbers into memory cannot fail.
    debug_assert!(serialized.is_ok());
    Bytes::from(written)
}

/// A body's bytes besides its prompt, model and tag: keys, punctuation, numbers (~170 at most).
const BODY_OVERHEAD: usize = 192;

/// The largest body that reserves its size before it is written (`benches/hot_paths.rs`,
/// `request_body`).
const RESERVE_AT_MOST: usize = 64 * 1024;

/// Adds each family's authentication (and, for Anthropic, version) headers; an error for a key
/// that cannot be a header value.
pub fn authenticate(
    headers: &mut http::HeaderMap,
    family: ApiFamily,
    api_key: &str,
) -> Result<(), http::header::InvalidHeaderValue> {
    use http::HeaderValue;
    let (name, mut value) = match family {
        ApiFamily::OpenAi => {
            (http::header::AUTHORIZATION, HeaderValue::try_from(format!("Bearer {api_key}"))?)
        }
        ApiFamily::Anthropic => {
            headers.insert(ANTHROPIC_VERSION_HEADER, HeaderValue::from_static(ANTHROPIC_VERSION));
            (X_API_KEY, HeaderValue::from_str(api_key)?)
        }
    };
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

const X_API_KEY: http::HeaderName = http::HeaderName::from_static("x-api-key");
const ANTHROPIC_VERSION_HEADER: http::HeaderName = http::HeaderName::from_static("anthropic-version");

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(stream: bool, max_tokens: Option<u32>) -> RequestSpec {
        RequestSpec { api: ApiFamily::OpenAi, model: Arc::from("m"), stream, prompt_tokens: 100, max_tokens }
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
    fn a_prefix_of_the_largest_prompt_estimates_to_the_asked_size() {
        let prompt = tokens::prompt_text(5000);
        let sent: serde_json::Value =
            serde_json::from_slice(&body(ApiFamily::OpenAi, &spec(false, None), &prompt, 1)).unwrap();
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(tokens::prompt_tokens(messages), 100);
    }
}
