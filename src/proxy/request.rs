//! What the interposer reads from a request: the correlation id and retry count (for joins and
//! keyed fault draws), the presented API key, and — only when a fault matches on them — the
//! body's `model` and `stream` fields.

use crate::wire::{anthropic, openai, ApiFamily, CannedResponse};

/// A header's value as a number, if it is one.
pub fn header_number(headers: &http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name).and_then(|value| value.to_str().ok()).and_then(|value| value.trim().parse().ok())
}

/// A key that names one attempt of one logical request, so its fault draws do not depend on
/// what other requests arrived first.
pub fn draw_key(logical_id: Option<u64>, retry_count: Option<u64>) -> Option<u64> {
    logical_id.map(|id| id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ retry_count.unwrap_or(0).rotate_left(32))
}

/// The API key a request presents: `x-api-key`, else `Authorization: Bearer`.
pub fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    let header = |name| headers.get(name).and_then(|v: &http::HeaderValue| v.to_str().ok());
    header("x-api-key")
        .or_else(|| header("authorization").and_then(|v| v.strip_prefix("Bearer ")))
        .map(str::trim)
}

/// The fields of a request body that faults can match on.
#[derive(Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct BodyFields {
    pub model: Option<String>,
    pub stream: Option<bool>,
}

impl BodyFields {
    /// Reads the fields from a JSON body; a body that is not JSON has none.
    pub fn read(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// The 413 for a body over the harness's limit, in the upstream's format.
pub fn too_large(family: ApiFamily) -> CannedResponse {
    match family {
        ApiFamily::OpenAi => openai::error(413, "Request too large.", "invalid_request_error", None, None),
        ApiFamily::Anthropic => {
            anthropic::error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_stream_and_ignores_the_rest() {
        let fields = BodyFields::read(br#"{"model":"gpt-4o","messages":[{"role":"user"}],"stream":true}"#);
        assert_eq!(fields, BodyFields { model: Some("gpt-4o".into()), stream: Some(true) });
        assert_eq!(BodyFields::read(b"not json"), BodyFields::default());
    }

    #[test]
    fn the_key_comes_from_x_api_key_or_bearer() {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", "Bearer sk-b".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("sk-b"));
        headers.insert("x-api-key", "sk-a".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("sk-a"));
    }

    #[test]
    fn each_attempt_of_each_request_has_its_own_draw_key() {
        assert_ne!(draw_key(Some(1), Some(0)), draw_key(Some(1), Some(1)));
        assert_ne!(draw_key(Some(1), Some(0)), draw_key(Some(2), Some(0)));
        assert_eq!(draw_key(None, Some(0)), None);
    }
}
