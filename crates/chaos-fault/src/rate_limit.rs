//! `rate_limit`: a provider-style limiter (requests and tokens per minute, per API key and
//! model) in front of any upstream, real ones included, answering 429 exactly as the mocks'
//! limiter does. Its state is its token buckets; time comes from tokio's clock, so tests pause
//! and advance it.

use std::{sync::Arc, time::Duration};

use rand::rngs::StdRng;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Decision, Fault, FaultContext, RequestView};
use crate::{
    located::{Checked, Located},
    ratelimit::{limit_exceeded, Admission, Limiter, RateLimits, UNKNOWN_KEY},
    speed::Speed,
    wire::{tokens::DEFAULT_OUTPUT_TOKENS, ApiFamily},
};

/// `rate_limit: { rpm: 600, tpm: 200000 }`: per-key, per-model limits (of a mock, or of
/// this fault in front of any upstream).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
}

/// The highest `rpm` a limit may state: above the 60 million requests a minute the load
/// generator can send at its fastest (1,000,000/s), so a larger one can only be a typo.
pub const MOST_RPM: u64 = 100_000_000;
/// The highest `tpm`: a thousand tokens for each of [`MOST_RPM`] requests.
pub const MOST_TPM: u64 = 100_000_000_000;

impl RawRateLimit {
    /// Checked `rate_limit: { rpm, tpm }`: at least one, neither zero nor above its most.
    pub fn check(raw: &Spanned<RawRateLimit>) -> Checked<RateLimits> {
        let RawRateLimit { rpm, tpm } = raw.value;
        if rpm.is_none() && tpm.is_none() {
            return Err(Located::at(
                &raw.referenced,
                "`rate_limit` needs `rpm`, `tpm` or both, e.g. `{ rpm: 600 }`",
            ));
        }
        if rpm == Some(0) || tpm == Some(0) {
            let message =
                "a limit of 0 would refuse every request; give a positive limit (or use `status: 429`)";
            return Err(Located::at(&raw.referenced, message));
        }
        for (key, limit, most) in [("rpm", rpm, MOST_RPM), ("tpm", tpm, MOST_TPM)] {
            if let Some(limit) = limit.filter(|limit| *limit > most) {
                let message = format!("`{key}: {limit}` is too large; the most allowed is {most}");
                return Err(Located::at(&raw.referenced, message));
            }
        }
        Ok(RateLimits::per_minute(rpm, tpm))
    }
}

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

impl RateLimitFault {
    pub fn new(limits: RateLimits, family: ApiFamily) -> Self {
        RateLimitFault { limits, family, limiter: Arc::new(Limiter::new(limits)) }
    }
}

impl Fault for RateLimitFault {
    const NAME: &'static str = "rate_limit";
    const EXAMPLE: &'static str = "`rate_limit: { rpm: 600 }`";
    type Raw = RawRateLimit;
    type Options = ();

    fn check(raw: &Spanned<RawRateLimit>, _options: &(), context: &FaultContext) -> Checked<Self> {
        Ok(RateLimitFault::new(RawRateLimit::check(raw)?, context.family))
    }

    /// Fresh buckets over a shorter minute: scaling happens before a run.
    fn at_speed(&self, speed: Speed) -> Self {
        RateLimitFault::new(self.limits.at_speed(speed), self.family)
    }

    fn needs_body(&self) -> bool {
        true
    }

    fn on_request(&self, request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        let model = request.model.unwrap_or("-");
        let tokens = request.tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS);
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

    fn rng() -> StdRng {
        rand::SeedableRng::seed_from_u64(1)
    }

    fn request(key: usize) -> RequestView<'static> {
        RequestView { model: Some("gpt-4o"), key: Some(key), tokens: Some(100), ..RequestView::default() }
    }

    #[tokio::test(start_paused = true)]
    async fn limits_per_key_and_recovers_with_time() {
        let fault = RateLimitFault::new(RateLimits::per_minute(Some(60), None), ApiFamily::OpenAi);
        for _ in 0..60 {
            assert_eq!(fault.on_request(&request(0), &mut rng()), Decision::Pass);
        }
        let Decision::Respond(limited) = fault.on_request(&request(0), &mut rng()) else { panic!("limited") };
        assert_eq!(limited.status, 429);
        assert!(limited.headers.contains(&("retry-after", "1".to_owned())));
        assert!(limited.headers.contains(&("x-ratelimit-remaining-requests", "0".to_owned())));
        assert_eq!(
            fault.on_request(&request(1), &mut rng()),
            Decision::Pass,
            "another key has its own bucket"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            fault.on_request(&request(0), &mut rng()),
            Decision::Pass,
            "a second later one request fits again"
        );
    }
}
