//! `status`: answer with a provider-faithful error instead of forwarding (429 with
//! `retry-after`, 500, 502, 503), with the body the upstream's API family sends.

use std::time::Duration;

use super::{Decision, RequestView};
use crate::wire::{openai, ApiFamily};

/// The statuses this fault can return.
pub const SUPPORTED_STATUSES: &[u16] = &[429, 500, 502, 503];

/// Responds with an error status in the upstream's own format.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFault {
    pub status: u16,
    pub family: ApiFamily,
    /// Sent as `retry-after` (and `retry-after-ms`) when set.
    pub retry_after: Option<Duration>,
}

impl StatusFault {
    pub fn on_request(&self, request: &RequestView<'_>) -> Decision {
        let ApiFamily::OpenAi = self.family;
        let response = if self.status == 429 {
            openai::rate_limited(request.model, self.retry_after)
        } else {
            let response = openai::server_error(self.status);
            match self.retry_after {
                Some(wait) => response.with_header("retry-after", wait.as_secs_f64().ceil().to_string()),
                None => response,
            }
        };
        Decision::Respond(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: RequestView<'static> =
        RequestView { method: "POST", path: "/v1/chat/completions", model: Some("gpt-4o-mini") };

    fn respond(fault: StatusFault) -> crate::wire::CannedResponse {
        match fault.on_request(&REQUEST) {
            Decision::Respond(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    #[test]
    fn a_429_names_the_model_and_the_wait() {
        let response = respond(StatusFault {
            status: 429,
            family: ApiFamily::OpenAi,
            retry_after: Some(Duration::from_secs(60)),
        });
        assert_eq!(response.status, 429);
        assert!(response.headers.contains(&("retry-after", "60".to_owned())));
        assert!(String::from_utf8_lossy(&response.body).contains("gpt-4o-mini"));
    }

    #[test]
    fn a_503_has_no_retry_after_unless_asked() {
        let response = respond(StatusFault { status: 503, family: ApiFamily::OpenAi, retry_after: None });
        assert_eq!(response.status, 503);
        assert!(!response.headers.iter().any(|(name, _)| *name == "retry-after"));
    }
}
