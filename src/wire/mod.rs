//! Provider wire formats shared by the mock providers and the interposer's faults, so an
//! injected error and a mock's own error are byte-for-byte the same shape.
//!
//! Facts: `../shared/facts/llm-wire.md`.

pub mod openai;
pub mod tokens;

use std::fmt;

/// The API family an upstream speaks; decides error bodies and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiFamily {
    /// OpenAI Chat Completions and compatible APIs.
    OpenAi,
}

impl fmt::Display for ApiFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiFamily::OpenAi => "openai",
        })
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
    /// A JSON response with the given status.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        CannedResponse {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
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

/// A request id in the provider's format: `req_` and 32 hex digits.
pub fn request_id() -> String {
    format!("req_{:032x}", rand::random::<u128>())
}
