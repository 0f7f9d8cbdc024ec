//! `status`: answer with a provider-faithful error instead of forwarding: 429 (rate limit with
//! `retry-after`, or OpenAI's not-retryable `insufficient_quota`), 500, 502, 503, Anthropic's
//! 529, and 200 with an error body — with the body and headers the upstream's family sends,
//! and `x-should-retry` when asked.

use std::time::Duration;

use super::{Decision, RequestView};
use crate::wire::{anthropic, openai, ApiFamily, CannedResponse};

/// The statuses this fault can return for an API family.
pub fn supported_statuses(family: ApiFamily) -> &'static [u16] {
    match family {
        ApiFamily::OpenAi => &[200, 429, 500, 502, 503],
        ApiFamily::Anthropic => &[200, 429, 500, 502, 503, 529],
    }
}

/// Responds with an error status in the upstream's own format.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFault {
    pub status: u16,
    pub family: ApiFamily,
    /// Sent as `retry-after` (and, for OpenAI 429s, `retry-after-ms`) when set.
    pub retry_after: Option<Duration>,
    /// OpenAI 429 of the `insufficient_quota` kind (billing, not load: retrying cannot help).
    pub quota: bool,
    /// Sent as `x-should-retry`, which overrides the SDKs' own rule.
    pub should_retry: Option<bool>,
}

impl StatusFault {
    pub fn on_request(&self, request: &RequestView<'_>) -> Decision {
        let response = self.response(request.model);
        Decision::Respond(match self.should_retry {
            Some(retry) => response.set_header("x-should-retry", retry.to_string()),
            None => response,
        })
    }

    fn response(&self, model: Option<&str>) -> CannedResponse {
        match (self.family, self.status) {
            (ApiFamily::OpenAi, 429) if self.quota => openai::error(
                429,
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota",
                None,
                Some("insufficient_quota"),
            ),
            (family, 200) => {
                let mut error = self.failure(family, 500, model);
                error.status = 200;
                error
            }
            (family, status) => self.failure(family, status, model),
        }
    }

    /// The family's error response for `status`.
    fn failure(&self, family: ApiFamily, status: u16, model: Option<&str>) -> CannedResponse {
        let retry_after = self.retry_after;
        match (family, status) {
            (ApiFamily::OpenAi, 429) => {
                openai::rate_limited(&openai::RateLimitDetail { model, retry_after, ..Default::default() })
            }
            (ApiFamily::OpenAi, status) => {
                let response = openai::server_error(status);
                match retry_after {
                    Some(wait) => openai::with_retry_after(response, wait),
                    None => response,
                }
            }
            (ApiFamily::Anthropic, 429) => {
                let message = "Number of requests has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.";
                anthropic::rate_limited(message, retry_after)
            }
            (ApiFamily::Anthropic, status) => {
                anthropic::with_retry_after(anthropic::server_error(status), retry_after)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: RequestView<'static> = RequestView {
        method: "POST",
        path: "/v1/chat/completions",
        model: Some("gpt-4o-mini"),
        stream: None,
        key: None,
        tokens: None,
        headers: None,
        draw_key: None,
    };

    fn respond(status: u16, family: ApiFamily, retry_after: Option<Duration>) -> CannedResponse {
        match (StatusFault { status, family, retry_after, quota: false, should_retry: None })
            .on_request(&REQUEST)
        {
            Decision::Respond(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    fn header<'a>(response: &'a CannedResponse, name: &str) -> Option<&'a str> {
        response.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn an_openai_429_names_the_model_and_the_wait() {
        let response = respond(429, ApiFamily::OpenAi, Some(Duration::from_secs(60)));
        assert_eq!(response.status, 429);
        assert_eq!(header(&response, "retry-after"), Some("60"));
        assert!(String::from_utf8_lossy(&response.body).contains("gpt-4o-mini"));
    }

    #[test]
    fn a_503_has_no_retry_after_unless_asked() {
        let response = respond(503, ApiFamily::OpenAi, None);
        assert_eq!(response.status, 503);
        assert_eq!(header(&response, "retry-after"), None);
        let with_wait = respond(503, ApiFamily::OpenAi, Some(Duration::from_millis(1500)));
        assert_eq!(header(&with_wait, "retry-after"), Some("2"));
        assert_eq!(header(&with_wait, "retry-after-ms"), Some("1500"));
    }

    #[test]
    fn quota_429_is_insufficient_quota_with_no_retry_after() {
        let fault =
            StatusFault { quota: true, ..fault(429, ApiFamily::OpenAi, Some(Duration::from_secs(5))) };
        let Decision::Respond(response) = fault.on_request(&REQUEST) else { panic!("responds") };
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["code"], "insufficient_quota");
        assert_eq!(header(&response, "retry-after"), None);
    }

    #[test]
    fn a_200_carries_an_error_body_and_should_retry_is_sent_when_asked() {
        let fault = StatusFault { should_retry: Some(false), ..fault(200, ApiFamily::OpenAi, None) };
        let Decision::Respond(response) = fault.on_request(&REQUEST) else { panic!("responds") };
        assert_eq!(response.status, 200);
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(header(&response, "x-should-retry"), Some("false"));
    }

    fn fault(status: u16, family: ApiFamily, retry_after: Option<Duration>) -> StatusFault {
        StatusFault { status, family, retry_after, quota: false, should_retry: None }
    }

    #[test]
    fn should_retry_replaces_the_familys_own_header() {
        let fault = StatusFault { should_retry: Some(false), ..fault(529, ApiFamily::Anthropic, None) };
        let Decision::Respond(response) = fault.on_request(&REQUEST) else { panic!("responds") };
        let values: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| *name == "x-should-retry")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(values, ["false"], "one value, or httpx joins them and the SDK ignores both");
    }

    #[test]
    fn anthropic_faults_use_anthropic_bodies() {
        let overloaded = respond(529, ApiFamily::Anthropic, None);
        let body: serde_json::Value = serde_json::from_slice(&overloaded.body).unwrap();
        assert_eq!(body["error"]["type"], "overloaded_error");
        let limited = respond(429, ApiFamily::Anthropic, Some(Duration::from_secs(3)));
        let body: serde_json::Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");
        assert_eq!(header(&limited, "retry-after"), Some("3"));
        assert_eq!(header(&limited, "x-should-retry"), Some("true"));
    }
}
