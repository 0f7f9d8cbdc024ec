//! Provider wire formats shared by the mock providers and the interposer's faults, so an
//! injected error and a mock's own error are byte-for-byte the same shape.
//!
//! Checked against the official SDKs and the providers' documented formats.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod eventstream;
pub mod gemini;
mod json_tokens;
mod json_top;
pub mod openai;
pub mod retry_after;
pub mod sse;
pub mod sse_scan;
pub mod sse_split;
pub mod stream_split;
pub mod tokens;
pub mod usage;

use std::fmt;

/// The API family an upstream speaks; decides error bodies and headers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ApiFamily {
    /// OpenAI Chat Completions and compatible APIs.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Amazon Bedrock's Converse and ConverseStream (an AWS event stream, not SSE).
    Bedrock,
    /// Azure OpenAI: OpenAI's bodies at `/openai/deployments/{deployment}/…?api-version=…`,
    /// the `api-key` header, Azure's own errors and content-filter results.
    Azure,
    /// The Gemini API: `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`,
    /// the `x-goog-api-key` header, `usageMetadata`, Google's errors.
    Gemini,
}

impl ApiFamily {
    /// Each family by the name a scenario gives it (`mock:`, `api:`, `family:`).
    pub const NAMES: &'static [(&'static str, ApiFamily)] = &[
        ("openai", ApiFamily::OpenAi),
        ("anthropic", ApiFamily::Anthropic),
        ("azure", ApiFamily::Azure),
        ("gemini", ApiFamily::Gemini),
        ("bedrock", ApiFamily::Bedrock),
    ];

    /// Whether its bodies, streams and usage are OpenAI's (Chat Completions).
    pub fn speaks_openai(self) -> bool {
        matches!(self, ApiFamily::OpenAi | ApiFamily::Azure)
    }
}

impl fmt::Display for ApiFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = ApiFamily::NAMES.iter().find(|(_, family)| family == self).map_or("?", |(name, _)| name);
        f.write_str(name)
    }
}

/// A complete HTTP response decided without I/O: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: bytes::Bytes,
}

impl CannedResponse {
    /// A response with a status, content type and body.
    pub fn new(status: u16, content_type: &str, body: bytes::Bytes) -> Self {
        CannedResponse { status, headers: vec![("content-type", content_type.to_owned())], body }
    }

    /// A JSON response with the given status.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        CannedResponse::new(status, "application/json", bytes::Bytes::from(body.to_string()))
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets a header, replacing any value it already had.
    pub fn set_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.with_header(name, value)
    }

    /// Converts into a hyper response with any body type built from bytes.
    pub fn into_response<B: From<bytes::Bytes>>(self) -> http::Response<B> {
        let mut builder = http::Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(*name, value.as_str());
        }
        builder.body(B::from(self.body)).unwrap_or_else(|_| http::Response::new(B::from(bytes::Bytes::new())))
    }
}

/// Rate-limit state as the headers report it after a request: limits, what remains, and how
/// long until each bucket is full again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitHeaders {
    pub limit_requests: u64,
    pub remaining_requests: u64,
    pub reset_requests: std::time::Duration,
    pub limit_tokens: u64,
    pub remaining_tokens: u64,
    pub reset_tokens: std::time::Duration,
}

/// The headers a request's API key may come in, in the order [`presented_key`] reads them:
/// `x-api-key` (Anthropic's), `api-key` (Azure's), `x-goog-api-key` (Gemini's), then
/// `Authorization: Bearer` ([`bearer`]).
pub const KEY_HEADERS: [http::HeaderName; 4] = [
    http::HeaderName::from_static("x-api-key"),
    http::HeaderName::from_static(azure::KEY_HEADER),
    http::HeaderName::from_static(gemini::KEY_HEADER),
    http::header::AUTHORIZATION,
];

/// The key in `Authorization: Bearer <key>` (how OpenAI, and anthropic-python ≥ 2.0, send it);
/// the scheme's name in any case, as RFC 9110 §11.1 has it.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// The API key a request presents: in a provider's own key header ([`KEY_HEADERS`]), else
/// `Authorization: Bearer`.
pub fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    let [x_api_key, api_key, goog, _] = &KEY_HEADERS;
    let own = [x_api_key, api_key, goog].into_iter().find_map(|name| headers.get(name));
    let own = own.and_then(|value| value.to_str().ok());
    own.map(str::trim).or_else(|| bearer(headers))
}

/// The 413 for a body over the harness's limit, in the family's format.
pub fn too_large(family: ApiFamily) -> CannedResponse {
    match family {
        ApiFamily::OpenAi => openai::error(413, "Request too large.", "invalid_request_error", None, None),
        ApiFamily::Azure => azure::error(413, "RequestTooLarge", "Request too large."),
        ApiFamily::Gemini => gemini::error(400, "Request payload size exceeds the limit: 20971520 bytes."),
        ApiFamily::Anthropic => {
            anthropic::error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
        }
        ApiFamily::Bedrock => bedrock::failure(413),
    }
}

/// The 400 for a request body whose framing is broken (a malformed chunk), in the family's format.
pub fn malformed_body(family: ApiFamily) -> CannedResponse {
    let message = "The request body could not be read: its chunked encoding is malformed.";
    match family {
        ApiFamily::OpenAi => openai::error(400, message, "invalid_request_error", None, None),
        ApiFamily::Azure => azure::error(400, "BadRequest", message),
        ApiFamily::Gemini => gemini::error(400, message),
        ApiFamily::Anthropic => anthropic::error(400, "invalid_request_error", message),
        ApiFamily::Bedrock => bedrock::error(400, "ValidationException", message),
    }
}

/// A request id in the provider's format: `req_` and 32 hex digits.
pub fn request_id() -> String {
    format!("req_{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_x_api_key_or_bearer() {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", "Bearer sk-b".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("sk-b"));
        assert_eq!(bearer(&headers), Some("sk-b"));
        headers.insert("api-key", "az-key".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("az-key"), "Azure's header before Bearer");
        headers.insert("x-api-key", "sk-a".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("sk-a"));
    }

    #[test]
    fn every_family_is_named_and_prints_its_name() {
        for (name, family) in ApiFamily::NAMES {
            assert_eq!(family.to_string(), *name);
            let json = serde_json::to_value(family).unwrap();
            assert_eq!(json, *name, "serde and the scenario agree");
        }
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        let mut headers = http::HeaderMap::new();
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            headers.insert("authorization", format!("{scheme} sk-b").parse().unwrap());
            assert_eq!(bearer(&headers), Some("sk-b"), "{scheme}");
        }
        headers.insert("authorization", "Basic c2stYg==".parse().unwrap());
        assert_eq!(bearer(&headers), None, "another scheme");
    }
}
