//! `status`: answer with a provider-faithful error instead of forwarding: 429 with
//! `retry-after`, 500, 502, 503, and Anthropic's 529, with the body and headers the upstream's
//! API family sends.

use std::time::Duration;

use super::{Decision, RequestView};
use crate::wire::{anthropic, openai, ApiFamily, CannedResponse};

/// The statuses this fault can return for an API family.
pub fn supported_statuses(family: ApiFamily) -> &'static [u16] {
    match family {
        ApiFamily::OpenAi => &[429, 500, 502, 503],
        ApiFamily::Anthropic => &[429, 500, 502, 503, 529],
    }
}

/// Responds with an error status in the upstream's own format.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFault {
    pub status: u16,
    pub family: ApiFamily,
    /// Sent as `retry-after` (and, for OpenAI 429s, `retry-after-ms`) when set.
    pub retry_after: Option<Duration>,
}

impl StatusFault {
    pub fn on_request(&self, request: &RequestView<'_>) -> Decision {
        Decision::Respond(self.response(request.model))
    }

    fn response(&self, model: Option<&str>) -> CannedResponse {
        let retry_after = self.retry_after;
        match (self.family, self.status) {
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
        headers: None,
        draw_key: None,
    };

    fn respond(status: u16, family: ApiFamily, retry_after: Option<Duration>) -> CannedResponse {
        match (StatusFault { status, family, retry_after }).on_request(&REQUEST) {
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
