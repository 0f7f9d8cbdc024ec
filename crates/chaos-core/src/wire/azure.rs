//! Azure OpenAI's own wire pieces: its error body `{"error":{"code","message"}}` (the
//! platform's errors: a key, a path, an `api-version`, a rate limit; a model's own errors come in
//! OpenAI's shape), the headers its front door adds (`apim-request-id`, `x-ms-region`), its 429
//! with `retry-after`, `retry-after-ms` and `x-ms-retry-after-ms`, and the content-filter
//! results it adds to answers (`prompt_filter_results`, `content_filter_results`).
//!
//! The openai SDK reads `retry-after-ms` first, then `retry-after`; Portkey reads
//! `x-ms-retry-after-ms` too (`/work/shared/facts/llm-wire.md`, client retry behaviour).

use std::time::Duration;

use serde_json::{json, Value};

use super::{openai, CannedResponse, LimitHeaders};

/// The header Azure's key comes in (`Authorization: Bearer` is accepted too, as Entra ID tokens
/// come).
pub const KEY_HEADER: &str = "api-key";

/// The prefix of every Azure OpenAI data-plane path.
pub const DEPLOYMENTS: &str = "/openai/deployments/";

/// The deployment an Azure path names (`/openai/deployments/{deployment}/…`), which is the
/// model as far as faults, records and prices go.
pub fn deployment(path: &str) -> Option<&str> {
    let (deployment, _) = path.strip_prefix(DEPLOYMENTS)?.split_once('/')?;
    (!deployment.is_empty()).then_some(deployment)
}

/// The `api-version` the load generator sends, and the one Azure's 429 message names.
pub const API_VERSION: &str = "2024-10-21";

/// The region the mock says it answers from.
const REGION: &str = "East US";

/// The headers Azure's front door puts on every answer.
pub fn with_azure_headers(response: CannedResponse) -> CannedResponse {
    let id = uuid_like();
    response
        .with_header("apim-request-id", id.clone())
        .with_header("x-request-id", id)
        .with_header("x-ms-region", REGION)
}

/// An Azure platform error: `{"error":{"code","message"}}` with Azure's headers.
pub fn error(status: u16, code: &str, message: &str) -> CannedResponse {
    with_azure_headers(CannedResponse::json(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    ))
}

/// A model's own error (a 400 on the messages, a 500) as Azure passes it on: OpenAI's body,
/// Azure's headers in place of OpenAI's.
pub fn from_openai(mut response: CannedResponse) -> CannedResponse {
    response.headers.retain(|(name, _)| ![openai::VERSION.0, "x-request-id"].contains(name));
    with_azure_headers(response)
}

/// Azure's 429 for an exhausted token or request limit, asking for `wait`.
pub fn rate_limited(tokens: bool, wait: Duration) -> CannedResponse {
    let what = if tokens { "token rate limit" } else { "call rate limit" };
    let seconds = wait.as_secs_f64().ceil() as u64;
    let message = format!(
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {API_VERSION} have exceeded {what} of your current OpenAI S0 pricing tier. Please retry after {seconds} second{}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
        if seconds == 1 { "" } else { "s" }
    );
    with_retry_after(error(429, "429", &message), wait)
}

/// Adds `retry-after` (whole seconds, rounded up), `retry-after-ms` and `x-ms-retry-after-ms`.
pub fn with_retry_after(response: CannedResponse, wait: Duration) -> CannedResponse {
    openai::with_retry_after(response, wait).with_header("x-ms-retry-after-ms", wait.as_millis().to_string())
}

/// Azure's rate-limit headers: what remains of each limit (Azure sends no reset times).
pub fn limit_headers(response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
    openai::limit_counts(response, state)
}

/// A server-side failure (500, 502, 503 …) as Azure answers it.
pub fn server_error(status: u16) -> CannedResponse {
    match status {
        503 => error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
        _ => from_openai(openai::server_error(status)),
    }
}

/// The four categories' verdicts on a harmless text, as every Azure answer carries them.
pub fn content_filter_results() -> Value {
    let safe = json!({ "filtered": false, "severity": "safe" });
    json!({ "hate": safe, "self_harm": safe, "sexual": safe, "violence": safe })
}

/// The verdicts on the prompt, `prompt_filter_results`.
pub fn prompt_filter_results() -> Value {
    json!([{ "prompt_index": 0, "content_filter_results": content_filter_results() }])
}

/// An id shaped like Azure's request ids (a UUID).
fn uuid_like() -> String {
    let n = rand::random::<u128>();
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        n >> 96,
        (n >> 80) & 0xffff,
        (n >> 64) & 0xffff,
        (n >> 48) & 0xffff,
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(response: &'a CannedResponse, name: &str) -> Option<&'a str> {
        response.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_429_reads_like_azure_and_carries_every_wait_header() {
        let limited = rate_limited(true, Duration::from_millis(5_500));
        assert_eq!(limited.status, 429);
        let body: Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!(body["error"]["code"], "429");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("exceeded token rate limit") && message.contains("retry after 6 seconds"),
            "{message}"
        );
        assert_eq!(header(&limited, "retry-after"), Some("6"));
        assert_eq!(header(&limited, "retry-after-ms"), Some("5500"));
        assert_eq!(header(&limited, "x-ms-retry-after-ms"), Some("5500"));
        assert_eq!(header(&limited, "x-ms-region"), Some(REGION));
        assert_eq!(header(&limited, "apim-request-id").map(str::len), Some(36));
    }

    #[test]
    fn a_model_error_keeps_openai_s_body_without_openai_s_version_header() {
        let response = server_error(500);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(header(&response, openai::VERSION.0), None);
        assert!(header(&response, "apim-request-id").is_some());
    }
}
