//! OpenAI error bodies and rate-limit headers: `{"error":{"message","type","param","code"}}`.

use std::time::Duration;

use serde_json::json;

use super::{request_id, CannedResponse};

/// An OpenAI-shaped error response with `x-request-id`.
pub fn error(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> CannedResponse {
    CannedResponse::json(
        status,
        &json!({ "error": { "message": message, "type": kind, "param": param, "code": code } }),
    )
    .with_header("x-request-id", request_id())
}

/// The retryable 429 an exhausted request-per-minute limit returns, with `retry-after`
/// (whole seconds, rounded up) and `retry-after-ms` when a wait is given.
pub fn rate_limited(model: Option<&str>, retry_after: Option<Duration>) -> CannedResponse {
    let wait = retry_after.map_or_else(
        || "Please try again later.".to_owned(),
        |d| format!("Please try again in {:.3}s.", d.as_secs_f64()),
    );
    let model = model.unwrap_or("this model");
    let message =
        format!("Rate limit reached for {model} in organization org-chaos on requests per min (RPM): {wait}");
    let mut response = error(429, &message, "requests", None, Some("rate_limit_exceeded"))
        .with_header("x-ratelimit-remaining-requests", "0");
    if let Some(wait) = retry_after {
        let seconds = wait.as_secs_f64().ceil() as u64;
        response = response
            .with_header("retry-after", seconds.to_string())
            .with_header("retry-after-ms", wait.as_millis().to_string());
    }
    response
}

/// A server-side failure (500, 502, 503) with the body OpenAI sends for it.
pub fn server_error(status: u16) -> CannedResponse {
    let message = match status {
        503 => "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.",
        502 => "Bad gateway.",
        _ => "The server had an error while processing your request. Sorry about that!",
    };
    error(status, message, "server_error", None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &CannedResponse) -> serde_json::Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn rate_limit_carries_retry_after_and_the_sdk_error_shape() {
        let response = rate_limited(Some("gpt-4o-mini"), Some(Duration::from_millis(1500)));
        assert_eq!(response.status, 429);
        let header = |n| response.headers.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(header("retry-after"), Some("2"));
        assert_eq!(header("retry-after-ms"), Some("1500"));
        assert!(header("x-request-id").unwrap().starts_with("req_"));
        let body = body(&response);
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_eq!(body["error"]["type"], "requests");
        assert!(body["error"]["message"].as_str().unwrap().contains("gpt-4o-mini"));
    }

    #[test]
    fn overloaded_503_is_a_server_error() {
        let body = body(&server_error(503));
        assert_eq!(body["error"]["type"], "server_error");
        assert!(body["error"]["code"].is_null());
        assert!(body["error"]["param"].is_null());
    }
}
