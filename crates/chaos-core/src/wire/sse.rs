//! Server-sent events as the providers frame them: OpenAI sends bare `data:` lines and ends
//! with `data: [DONE]`; Anthropic names every event (`event:` line) and has no terminator.

use bytes::Bytes;
use serde_json::Value;

/// `data: <json>\n\n`
pub fn data(json: &Value) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

/// `event: <name>\ndata: <json>\n\n`
pub fn named(name: &str, json: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// OpenAI's end-of-stream marker.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Headers of an SSE response.
pub const CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";
