//! Amazon Bedrock's Converse API on the wire: error answers (`x-amzn-ErrorType` naming the
//! exception, a `{"message"}` body, `x-amzn-RequestId`), the event-stream frames of
//! `ConverseStream` (`:event-type`, `:content-type`, `:message-type` headers and a JSON
//! payload), the exception frame that ends a stream in error, and the model and stream flag a
//! request's path carries (`/model/{modelId}/converse` or `/converse-stream`).
//!
//! Checked against botocore's `bedrock-runtime` service model and its restJson1 and
//! event-stream parsers: the error's code is read from `x-amzn-ErrorType` up to its first `:`.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

use super::{eventstream, CannedResponse};

/// Where Bedrock's error types live, the suffix its `x-amzn-ErrorType` values carry.
const ERROR_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";

/// A request id as AWS writes them: a UUID.
pub fn request_id() -> String {
    let bits = rand::random::<u128>();
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A Bedrock error: status, `x-amzn-ErrorType: {kind}:…`, `{"message": …}`.
pub fn error(status: u16, kind: &str, message: &str) -> CannedResponse {
    CannedResponse::json(status, &json!({ "message": message }))
        .with_header("x-amzn-errortype", format!("{kind}:{ERROR_NAMESPACE}"))
        .with_header("x-amzn-requestid", request_id())
}

/// The exception Bedrock names for a status, and its usual message.
pub fn exception(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("ValidationException", "Malformed input request, please reformat your input and try again."),
        403 => ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
        404 => (
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        ),
        408 => (
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.",
        ),
        413 => ("ValidationException", "Input is too long for requested model."),
        424 => (
            "ModelErrorException",
            "The system encountered an unexpected error during processing. Try your request again.",
        ),
        429 => ("ThrottlingException", "Too many requests, please wait before trying again."),
        503 => ("ServiceUnavailableException", "Bedrock is unable to process your request."),
        _ => (
            "InternalServerException",
            "The server encountered an internal error while processing the request.",
        ),
    }
}

/// The error Bedrock sends for `status`, with its usual message.
pub fn failure(status: u16) -> CannedResponse {
    let (kind, message) = exception(status);
    error(status, kind, message)
}

/// A 429 `ThrottlingException`; with `retry-after` (whole seconds) when a wait is known, which
/// Bedrock does not send but a gateway in front of it may.
pub fn throttled(retry_after: Option<Duration>) -> CannedResponse {
    let response = failure(429);
    match retry_after {
        Some(wait) => response.with_header("retry-after", whole_seconds(wait)),
        None => response,
    }
}

/// A wait as `retry-after` writes it: whole seconds, rounded up.
pub fn whole_seconds(wait: Duration) -> String {
    (wait.as_secs_f64().ceil() as u64).to_string()
}

/// `ModelNotReadyException`: the model is not ready to serve (an imported model still
/// loading); 429, and the SDKs retry it.
pub fn model_not_ready() -> CannedResponse {
    let message = "Model is not ready for inference. Wait and try your request again.";
    error(429, "ModelNotReadyException", message)
}

/// One event of a `ConverseStream`: `event_type` (`messageStart`, `contentBlockDelta`, …) and
/// its JSON payload.
pub fn event(event_type: &str, payload: &Value) -> Bytes {
    let headers =
        [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")];
    eventstream::encode(&headers, payload.to_string().as_bytes())
}

/// The frame that ends a stream in error: `:message-type: exception`, the exception's member
/// name in the stream's union (`throttlingException`, `modelStreamErrorException`), `{"message"}`.
pub fn exception_frame(exception_type: &str, message: &str) -> Bytes {
    let headers = [
        (":exception-type", exception_type),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ];
    eventstream::encode(&headers, json!({ "message": message }).to_string().as_bytes())
}

/// What a Converse request's path says: the model (percent-decoded: the SDKs write
/// `anthropic.claude-3-haiku-20240307-v1%3A0`) and whether it streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversePath {
    pub model: String,
    pub stream: bool,
}

/// `/model/{modelId}/converse` or `/model/{modelId}/converse-stream`, else `None`.
pub fn converse_path(path: &str) -> Option<ConversePath> {
    let rest = path.strip_prefix("/model/")?;
    let (model, stream) = match rest.rsplit_once('/')? {
        (model, "converse") => (model, false),
        (model, "converse-stream") => (model, true),
        _ => return None,
    };
    let model = percent_decode(model)?;
    (!model.is_empty() && !model.contains('/')).then_some(ConversePath { model, stream })
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The access key id of a SigV4 `Authorization` (`AWS4-HMAC-SHA256 Credential=AKID/date/…`),
/// or the key of `Bearer` (a Bedrock API key). The signature is never checked.
pub fn presented_key(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim());
    }
    if scheme != "AWS4-HMAC-SHA256" {
        return None;
    }
    let credential = rest.split(',').find_map(|part| part.trim().strip_prefix("Credential="))?;
    credential.split('/').next().filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_their_exception_in_the_header() {
        let throttled = throttled(Some(Duration::from_millis(1500)));
        assert_eq!(throttled.status, 429);
        let header = |name: &str| throttled.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(header("x-amzn-errortype").and_then(|v| v.split(':').next()), Some("ThrottlingException"));
        assert_eq!(header("retry-after"), Some("2"));
        assert_eq!(header("x-amzn-requestid").map(str::len), Some(36));
        let body: Value = serde_json::from_slice(&throttled.body).unwrap();
        assert_eq!(body, json!({ "message": "Too many requests, please wait before trying again." }));
        assert_eq!(failure(503).status, 503);
        assert_eq!(exception(503).0, "ServiceUnavailableException");
        assert_eq!(model_not_ready().status, 429);
    }

    #[test]
    fn events_and_exceptions_are_frames_with_their_headers() {
        let bytes = event("contentBlockDelta", &json!({ "contentBlockIndex": 0, "delta": { "text": "hi" } }));
        let frame = eventstream::Frame::decode(&bytes).unwrap();
        assert_eq!(frame.event_type(), Some("contentBlockDelta"));
        assert_eq!(frame.message_type(), Some("event"));
        assert_eq!(frame.string(":content-type"), Some("application/json"));
        let bytes = exception_frame("throttlingException", "slow down");
        let frame = eventstream::Frame::decode(&bytes).unwrap();
        assert_eq!(
            (frame.message_type(), frame.event_type()),
            (Some("exception"), Some("throttlingException"))
        );
        assert_eq!(frame.payload, br#"{"message":"slow down"}"#);
    }

    #[test]
    fn the_path_gives_the_model_and_the_stream_flag() {
        let model = "anthropic.claude-3-haiku-20240307-v1:0";
        let path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";
        assert_eq!(converse_path(path), Some(ConversePath { model: model.into(), stream: true }));
        let plain = converse_path("/model/amazon.nova-micro-v1:0/converse").unwrap();
        assert_eq!((plain.model.as_str(), plain.stream), ("amazon.nova-micro-v1:0", false));
        for other in [
            "/model//converse",
            "/model/m/invoke",
            "/v1/chat/completions",
            "/model/a%2/converse",
            "/model/a%2Fb/converse",
        ] {
            assert_eq!(converse_path(other), None, "{other}");
        }
    }

    #[test]
    fn the_key_is_the_sigv4_access_key_id_or_a_bearer() {
        let mut headers = http::HeaderMap::new();
        let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        headers.insert("authorization", sigv4.parse().unwrap());
        assert_eq!(presented_key(&headers), Some("AKIDEXAMPLE"));
        headers.insert("authorization", "Bearer bedrock-key".parse().unwrap());
        assert_eq!(presented_key(&headers), Some("bedrock-key"));
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(presented_key(&headers), None);
    }
}
