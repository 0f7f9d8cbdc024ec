//! Gemini's wire pieces (the Gemini API, `generativelanguage`): Google's error body
//! `{"error":{"code","message","status"}}` (`INVALID_ARGUMENT` 400, `PERMISSION_DENIED` 403,
//! `NOT_FOUND` 404, `RESOURCE_EXHAUSTED` 429 with a `RetryInfo` detail, `INTERNAL` 500,
//! `UNAVAILABLE` 503, `DEADLINE_EXCEEDED` 504), the model and stream flag its path names
//! (`/v1beta/models/{model}:generateContent`, `…:streamGenerateContent?alt=sse`), and how its
//! `usageMetadata` reads, in an answer and in each event of a stream (`data:` frames, no
//! terminator: the last carries `finishReason`).
//!
//! Google sends no `retry-after` header: the wait is the `retryDelay` of the body's `RetryInfo`
//! detail. google-genai does not retry unless given `HttpRetryOptions`, and then on its own
//! exponential backoff, whatever the answer asks (its `_api_client.py`, 3.3.0).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{sse_split::SseEvent, usage::ReportedUsage, CannedResponse};

/// The header Gemini's key comes in (`?key=` in the query is accepted too).
pub const KEY_HEADER: &str = "x-goog-api-key";

/// The generation methods, after `models/{model}`.
const GENERATE: &str = ":generateContent";
const STREAM: &str = ":streamGenerateContent";

/// Google's status name for an HTTP status.
pub fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// The error body alone, `{"error":{"code","message","status"}}` (and `details` when given).
pub fn error_body(status: u16, message: &str, details: Option<Value>) -> Value {
    let mut error = json!({ "code": status, "message": message, "status": status_name(status) });
    if let Some(details) = details {
        error["details"] = details;
    }
    json!({ "error": error })
}

/// A Google error response.
pub fn error(status: u16, message: &str) -> CannedResponse {
    CannedResponse::json(status, &error_body(status, message, None))
}

/// The 429 of an exhausted quota, asking for `wait` in a `RetryInfo` detail when known.
pub fn rate_limited(wait: Option<Duration>) -> CannedResponse {
    let message = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";
    let details = wait.map(|wait| {
        json!([{ "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{}s", wait.as_secs_f64().ceil() as u64) }])
    });
    CannedResponse::json(429, &error_body(429, message, details))
}

/// A server-side failure (500, 503, 504) with the message Google sends for it.
pub fn server_error(status: u16) -> CannedResponse {
    let message = match status {
        503 => "The model is overloaded. Please try again later.",
        504 => "The request timed out. Please try again.",
        _ => "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    };
    error(status, message)
}

/// The model a generation path names, and whether it streams: `(model, stream)` of
/// `/v1beta/models/{model}:generateContent` or `…:streamGenerateContent` (any API version).
pub fn generation(path: &str) -> Option<(&str, bool)> {
    // The suffix first: it rules out every other path (each request's is asked) without a
    // search, and has no `/` for `/models/` to overlap.
    let (named, stream) = match path.strip_suffix(STREAM) {
        Some(named) => (named, true),
        None => (path.strip_suffix(GENERATE)?, false),
    };
    let (_, model) = named.split_once("/models/")?;
    (!model.is_empty() && !model.contains('/')).then_some((model, stream))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
}

/// What one Gemini response (a whole answer, or one event of a stream) says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResponseFacts {
    /// It carries generated text.
    pub has_content: bool,
    /// It ends the answer (a candidate's `finishReason`).
    pub finished: bool,
    pub usage: ReportedUsage,
}

/// Reads one Gemini response's JSON; anything else (an error, bad JSON) says nothing.
pub fn response(json: &[u8]) -> Option<ResponseFacts> {
    let response: Response = serde_json::from_slice(json).ok()?;
    let parts = response.candidates.iter().filter_map(|c| c.content.as_ref()).flat_map(|c| &c.parts);
    let has_content = parts.filter_map(|part| part.text.as_deref()).any(|text| !text.is_empty());
    let usage = response.usage_metadata.unwrap_or_default();
    Some(ResponseFacts {
        has_content,
        finished: response.candidates.iter().any(|c| c.finish_reason.is_some()),
        // A stream's early events count the prompt alone: output only once it is reported.
        usage: ReportedUsage { input: usage.prompt_token_count, output: usage.candidates_token_count },
    })
}

/// The usage of a whole answer: `Some` (perhaps empty: an error body has none) when it is one
/// JSON object, `None` when not (a body cut short).
pub fn answer_usage(body: &[u8]) -> Option<ReportedUsage> {
    response(body).map(|facts| facts.usage)
}

/// One event of a Gemini stream.
pub fn event(event: &SseEvent<'_>) -> ResponseFacts {
    let data = event.bytes.split(|b| *b == b'\n').find_map(|line| line.strip_prefix(b"data:"));
    data.and_then(|data| response(data.trim_ascii())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_model_and_whether_it_streams() {
        assert_eq!(
            generation("/v1beta/models/gemini-2.0-flash:generateContent"),
            Some(("gemini-2.0-flash", false))
        );
        assert_eq!(
            generation("/v1/models/gemini-1.5-pro:streamGenerateContent"),
            Some(("gemini-1.5-pro", true))
        );
        assert_eq!(generation("/v1beta/models/gemini-2.0-flash:countTokens"), None);
        assert_eq!(generation("/v1beta/models/:generateContent"), None);
        assert_eq!(generation("/v1/chat/completions"), None);
    }

    #[test]
    fn a_429_is_resource_exhausted_with_its_wait_in_the_body() {
        let limited = rate_limited(Some(Duration::from_millis(1_500)));
        let body: Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!((limited.status, &body["error"]["status"]), (429, &json!("RESOURCE_EXHAUSTED")));
        assert_eq!(body["error"]["code"], 429);
        assert_eq!(body["error"]["details"][0]["retryDelay"], "2s");
        assert!(limited.headers.iter().all(|(name, _)| *name != "retry-after"), "Google sends no header");
        let unavailable: Value = serde_json::from_slice(&server_error(503).body).unwrap();
        assert_eq!(unavailable["error"]["status"], "UNAVAILABLE");
    }

    #[test]
    fn usage_metadata_reads_from_an_answer_and_from_events() {
        let answer = br#"{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":4,"totalTokenCount":13}}"#;
        assert_eq!(answer_usage(answer), Some(ReportedUsage { input: Some(9), output: Some(4) }));
        assert_eq!(answer_usage(&answer[..40]), None, "cut short");
        assert_eq!(answer_usage(br#"{"error":{"code":429}}"#), Some(ReportedUsage::default()));
        let early = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}],\"usageMetadata\":{\"promptTokenCount\":9}}\n\n";
        let facts = event(&SseEvent { index: 0, bytes: early, tool_argument: None });
        assert_eq!(
            facts,
            ResponseFacts {
                has_content: true,
                finished: false,
                usage: ReportedUsage { input: Some(9), output: None }
            }
        );
        let last = b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":4}}\n\n";
        let facts = event(&SseEvent { index: 0, bytes: last, tool_argument: None });
        assert!(facts.finished && !facts.has_content);
        assert_eq!(facts.usage.output, Some(4));
    }
}
