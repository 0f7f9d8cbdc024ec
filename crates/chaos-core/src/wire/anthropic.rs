//! Anthropic error bodies and rate-limit headers:
//! `{"type":"error","error":{"type","message"},"request_id":"req_…"}` with a `request-id` header.

use std::time::{Duration, SystemTime};

use serde_json::json;

use super::{request_id, CannedResponse, LimitHeaders};

/// An Anthropic-shaped error with matching `request-id` header and body field.
pub fn error(status: u16, kind: &str, message: &str) -> CannedResponse {
    let id = request_id();
    CannedResponse::json(
        status,
        &json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": id }),
    )
    .with_header("request-id", id)
}

/// The error type Anthropic uses for a status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// A server-side failure (500, 502, 503, 529) as Anthropic sends it; retryable per
/// `x-should-retry: true`.
pub fn server_error(status: u16) -> CannedResponse {
    let message = match status {
        529 => "Overloaded",
        _ => "Internal server error",
    };
    error(status, error_type(status), message).with_header("x-should-retry", "true")
}

/// A 429 `rate_limit_error`, with `retry-after` when a wait is known.
pub fn rate_limited(message: &str, retry_after: Option<Duration>) -> CannedResponse {
    with_retry_after(
        error(429, "rate_limit_error", message).with_header("x-should-retry", "true"),
        retry_after,
    )
}

/// Adds `retry-after` in whole seconds (rounded up) when a wait is given.
pub fn with_retry_after(response: CannedResponse, wait: Option<Duration>) -> CannedResponse {
    match wait {
        Some(wait) => response.with_header("retry-after", (wait.as_secs_f64().ceil() as u64).to_string()),
        None => response,
    }
}

/// `anthropic-ratelimit-*` headers; resets are RFC 3339 instants.
pub fn limit_headers(response: CannedResponse, state: &LimitHeaders, now: SystemTime) -> CannedResponse {
    let at = |wait: Duration| {
        let instant = time::OffsetDateTime::from(now + wait)
            .replace_nanosecond(0)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        instant.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    };
    response
        .with_header("anthropic-ratelimit-requests-limit", state.limit_requests.to_string())
        .with_header("anthropic-ratelimit-requests-remaining", state.remaining_requests.to_string())
        .with_header("anthropic-ratelimit-requests-reset", at(state.reset_requests))
        .with_header("anthropic-ratelimit-tokens-limit", state.limit_tokens.to_string())
        .with_header("anthropic-ratelimit-tokens-remaining", state.remaining_tokens.to_string())
        .with_header("anthropic-ratelimit-tokens-reset", at(state.reset_tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overloaded_is_529_with_the_sdk_error_shape() {
        let response = server_error(529);
        assert_eq!(response.status, 529);
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "overloaded_error");
        assert_eq!(body["error"]["message"], "Overloaded");
        let header = |n| response.headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        assert_eq!(header("request-id").as_deref(), body["request_id"].as_str());
        assert_eq!(header("x-should-retry").as_deref(), Some("true"));
    }

    #[test]
    fn resets_are_rfc3339_instants() {
        let state = LimitHeaders {
            limit_requests: 50,
            remaining_requests: 49,
            reset_requests: Duration::from_secs(2),
            limit_tokens: 1000,
            remaining_tokens: 900,
            reset_tokens: Duration::from_secs(6),
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let response = limit_headers(CannedResponse::json(200, &json!({})), &state, now);
        let reset =
            response.headers.iter().find(|(k, _)| *k == "anthropic-ratelimit-requests-reset").unwrap();
        assert_eq!(reset.1, "2023-11-14T22:13:22Z");
    }
}
