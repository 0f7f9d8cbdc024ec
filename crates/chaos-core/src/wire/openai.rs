//! OpenAI error bodies and rate-limit headers: `{"error":{"message","type","param","code"}}`,
//! `x-ratelimit-*` with Go-style durations (`1s`, `6m0s`, `12ms`).

use std::time::Duration;

use serde_json::json;

use super::{request_id, CannedResponse, LimitHeaders};

/// The API version header OpenAI puts on every response.
pub const VERSION: (&str, &str) = ("openai-version", "2020-10-01");

/// An OpenAI-shaped error response with `x-request-id` and `openai-version`, whether a mock or
/// a fault sends it, so a target cannot tell them apart.
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
    .with_header(VERSION.0, VERSION.1)
}

/// Adds `retry-after` (whole seconds, rounded up) and `retry-after-ms`, as OpenAI and Azure
/// send them; the SDKs read `retry-after-ms` first.
pub fn with_retry_after(response: CannedResponse, wait: Duration) -> CannedResponse {
    response
        .with_header("retry-after", (wait.as_secs_f64().ceil() as u64).to_string())
        .with_header("retry-after-ms", wait.as_millis().to_string())
}

/// What a 429 says about the limit that was hit; unknown parts are left out of the message.
#[derive(Debug, Clone, Default)]
pub struct RateLimitDetail<'a> {
    pub model: Option<&'a str>,
    /// `true` for tokens per minute, `false` for requests per minute.
    pub tokens: bool,
    pub limit: Option<u64>,
    pub used: Option<u64>,
    pub requested: Option<u64>,
    pub retry_after: Option<Duration>,
}

/// The retryable 429 of an exhausted limit, with `retry-after` (whole seconds, rounded up) and
/// `retry-after-ms` when a wait is known.
pub fn rate_limited(detail: &RateLimitDetail<'_>) -> CannedResponse {
    let (unit, kind) = if detail.tokens {
        ("tokens per min (TPM)", "tokens")
    } else {
        ("requests per min (RPM)", "requests")
    };
    let figures: Vec<String> =
        [("Limit", detail.limit), ("Used", detail.used), ("Requested", detail.requested)]
            .into_iter()
            .filter_map(|(label, value)| value.map(|value| format!(" {label} {value}")))
            .collect();
    let figures = if figures.is_empty() { String::new() } else { format!(":{}", figures.join(",")) };
    let mut message = format!(
        "Rate limit reached for {} in organization org-chaos on {unit}{figures}.",
        detail.model.unwrap_or("this model")
    );
    match detail.retry_after {
        Some(wait) => message.push_str(&format!(" Please try again in {}.", go_duration(wait))),
        None => message.push_str(" Please try again later."),
    }
    message.push_str(" Visit https://platform.openai.com/account/rate-limits to learn more.");
    let response = error(429, &message, kind, None, Some("rate_limit_exceeded"));
    match detail.retry_after {
        Some(wait) => with_retry_after(response, wait),
        None => response,
    }
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

/// Adds the `x-ratelimit-*` headers.
pub fn limit_headers(response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
    limit_counts(response, state)
        .with_header("x-ratelimit-reset-requests", go_duration(state.reset_requests))
        .with_header("x-ratelimit-reset-tokens", go_duration(state.reset_tokens))
}

/// Adds the `x-ratelimit-{limit,remaining}-{requests,tokens}` headers alone (Azure sends no
/// reset times).
pub fn limit_counts(response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
    response
        .with_header("x-ratelimit-limit-requests", state.limit_requests.to_string())
        .with_header("x-ratelimit-limit-tokens", state.limit_tokens.to_string())
        .with_header("x-ratelimit-remaining-requests", state.remaining_requests.to_string())
        .with_header("x-ratelimit-remaining-tokens", state.remaining_tokens.to_string())
}

/// A duration the way Go prints it, as OpenAI's headers do: `0s`, `12ms`, `1s`, `17.28s`,
/// `6m0s`.
pub fn go_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let seconds = millis as f64 / 1000.0;
    let trim = |s: f64| {
        let text = format!("{s:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    if seconds < 60.0 {
        format!("{}s", trim(seconds))
    } else {
        let minutes = (seconds / 60.0).floor();
        format!("{minutes}m{}s", trim(seconds - minutes * 60.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &CannedResponse) -> serde_json::Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    fn header<'a>(response: &'a CannedResponse, name: &str) -> Option<&'a str> {
        response.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_token_limit_429_reads_like_openai_and_carries_retry_after() {
        let detail = RateLimitDetail {
            model: Some("gpt-4o-mini"),
            tokens: true,
            limit: Some(200_000),
            used: Some(199_000),
            requested: Some(1_800),
            retry_after: Some(Duration::from_millis(1500)),
        };
        let response = rate_limited(&detail);
        assert_eq!(response.status, 429);
        assert_eq!(header(&response, "retry-after"), Some("2"));
        assert_eq!(header(&response, "retry-after-ms"), Some("1500"));
        assert!(header(&response, "x-request-id").unwrap().starts_with("req_"));
        let body = body(&response);
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_eq!(body["error"]["type"], "tokens");
        assert_eq!(
            body["error"]["message"],
            "Rate limit reached for gpt-4o-mini in organization org-chaos on tokens per min (TPM): Limit 200000, Used 199000, Requested 1800. Please try again in 1.5s. Visit https://platform.openai.com/account/rate-limits to learn more."
        );
    }

    #[test]
    fn overloaded_503_is_a_server_error() {
        let body = body(&server_error(503));
        assert_eq!(body["error"]["type"], "server_error");
        assert!(body["error"]["code"].is_null());
        assert!(body["error"]["param"].is_null());
    }

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_millis(17_280)), "17.28s");
        assert_eq!(go_duration(Duration::from_secs(360)), "6m0s");
        assert_eq!(go_duration(Duration::from_millis(90_500)), "1m30.5s");
    }
}
