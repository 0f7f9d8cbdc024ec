//! `rate_limit`: a provider-style limiter (requests and tokens per minute, per API key and
//! model) in front of any upstream, real ones included, answering 429 exactly as the mocks'
//! limiter does. Its state is its token buckets; time comes from tokio's clock, so tests pause
//! and advance it.

use std::{sync::Arc, time::Duration};

use super::{Decision, RequestView};
use crate::{
    ratelimit::{limit_exceeded, Admission, Limiter, RateLimits, UNKNOWN_KEY},
    wire::ApiFamily,
};

/// A token-bucket limiter in front of the upstream.
#[derive(Debug, Clone)]
pub struct RateLimitFault {
    pub limits: RateLimits,
    pub family: ApiFamily,
    limiter: Arc<Limiter>,
}

impl PartialEq for RateLimitFault {
    fn eq(&self, other: &Self) -> bool {
        self.limits == other.limits
            && self.family == other.family
            && Arc::ptr_eq(&self.limiter, &other.limiter)
    }
}

/// Output tokens assumed when a request sets no limit (as the mocks do).
const DEFAULT_OUTPUT: u64 = crate::mock::latency::DEFAULT_OUTPUT_TOKENS;

impl RateLimitFault {
    pub fn new(limits: RateLimits, family: ApiFamily) -> Self {
        RateLimitFault { limits, family, limiter: Arc::new(Limiter::new(limits)) }
    }

    pub fn on_request(&self, request: &RequestView<'_>) -> Decision {
        let model = request.model.unwrap_or("-");
        let tokens = request.tokens.unwrap_or(DEFAULT_OUTPUT);
        let key = request.key.unwrap_or(UNKNOWN_KEY);
        match self.limiter.admit(key, model, tokens, tokio::time::Instant::now()) {
            Admission::Admitted(_) => Decision::Pass,
            Admission::Limited { kind, wait, requested_tokens, state } => {
                let wait = wait.max(Duration::from_millis(1));
                Decision::Respond(limit_exceeded(self.family, model, kind, wait, requested_tokens, &state))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: usize) -> RequestView<'static> {
        RequestView { model: Some("gpt-4o"), key: Some(key), tokens: Some(100), ..RequestView::default() }
    }

    #[tokio::test(start_paused = true)]
    async fn limits_per_key_and_recovers_with_time() {
        let fault = RateLimitFault::new(RateLimits::per_minute(Some(60), None), ApiFamily::OpenAi);
        for _ in 0..60 {
            assert_eq!(fault.on_request(&request(0)), Decision::Pass);
        }
        let Decision::Respond(limited) = fault.on_request(&request(0)) else { panic!("limited") };
        assert_eq!(limited.status, 429);
        assert!(limited.headers.contains(&("retry-after", "1".to_owned())));
        assert!(limited.headers.contains(&("x-ratelimit-remaining-requests", "0".to_owned())));
        assert_eq!(fault.on_request(&request(1)), Decision::Pass, "another key has its own bucket");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(fault.on_request(&request(0)), Decision::Pass, "a second later one request fits again");
    }
}
