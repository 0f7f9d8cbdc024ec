//! Provider-style rate limits, shared by the mocks and the `rate_limit` fault: a token bucket
//! per API key and model for requests per minute and one for tokens per minute. A request is admitted only if both buckets can pay; otherwise
//! the answer says how long until they can (the `retry-after`), and which limit was hit.
//!
//! Pure over an explicit `now`, so the arithmetic is tested with exact instants.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use tokio::time::Instant;

use crate::wire::{anthropic, azure, gemini, openai, ApiFamily, CannedResponse};

/// Limits per key and model; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    /// How long a "minute" of the limits lasts: 60 s, shorter under `--speed`
    /// ([`crate::speed`]); buckets refill their whole capacity over it.
    pub minute: Duration,
}

/// A real minute.
pub const MINUTE: Duration = Duration::from_secs(60);

impl RateLimits {
    /// `rpm` and `tpm` per real minute.
    pub fn per_minute(rpm: Option<u64>, tpm: Option<u64>) -> Self {
        RateLimits { rpm, tpm, minute: MINUTE }
    }

    /// The same limits with their minute lasting `speed.time(60 s)`.
    pub fn at_speed(self, speed: crate::speed::Speed) -> Self {
        RateLimits { minute: speed.time(self.minute), ..self }
    }
}

impl Default for RateLimits {
    /// Unlimited.
    fn default() -> Self {
        RateLimits::per_minute(None, None)
    }
}

/// Which limit a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Requests,
    Tokens,
}

pub use crate::wire::LimitHeaders as LimitState;

/// The limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted(LimitState),
    Limited { kind: LimitKind, wait: Duration, requested_tokens: u64, state: LimitState },
}

/// The 429 a provider sends when a limit is hit, in the family's format, with its
/// rate-limit headers: what the mocks and the `rate_limit` fault both answer.
pub fn limit_exceeded(
    family: ApiFamily,
    model: &str,
    kind: LimitKind,
    wait: Duration,
    requested_tokens: u64,
    state: &LimitState,
) -> CannedResponse {
    let tokens = kind == LimitKind::Tokens;
    match family {
        ApiFamily::OpenAi => {
            let (limit, remaining) = if tokens {
                (state.limit_tokens, state.remaining_tokens)
            } else {
                (state.limit_requests, state.remaining_requests)
            };
            let detail = openai::RateLimitDetail {
                model: Some(model),
                tokens,
                limit: Some(limit),
                used: Some(limit.saturating_sub(remaining)),
                requested: Some(if tokens { requested_tokens } else { 1 }),
                retry_after: Some(wait),
            };
            openai::limit_headers(openai::rate_limited(&detail), state)
        }
        ApiFamily::Azure => azure::limit_headers(azure::rate_limited(tokens, wait), state),
        // Google's 429 has no rate-limit headers: its wait is in the body.
        ApiFamily::Gemini => gemini::rate_limited(Some(wait)),
        ApiFamily::Anthropic => {
            let what = if tokens {
                "Number of request tokens has exceeded your per-minute rate limit"
            } else {
                "Number of requests has exceeded your per-minute rate limit"
            };
            let message = format!("This request would exceed the rate limit for your organization: {what} (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.");
            anthropic::limit_headers(
                anthropic::rate_limited(&message, Some(wait)),
                state,
                std::time::SystemTime::now(),
            )
        }
        // Bedrock sends no rate-limit headers and no wait: its SDKs back off on the exception.
        ApiFamily::Bedrock => crate::wire::bedrock::throttled(None),
    }
}

/// What headers say when a limit is not configured: large, never binding.
const NOMINAL_RPM: u64 = 10_000;
const NOMINAL_TPM: u64 = 30_000_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    capacity: f64,
    level: f64,
    /// Per second.
    refill: f64,
    updated: Instant,
    enforced: bool,
}

impl Bucket {
    fn new(per_minute: Option<u64>, nominal: u64, minute: Duration, now: Instant) -> Self {
        let capacity = per_minute.unwrap_or(nominal) as f64;
        Bucket {
            capacity,
            level: capacity,
            refill: capacity / minute.as_secs_f64().max(1e-9),
            updated: now,
            enforced: per_minute.is_some(),
        }
    }

    fn refill_to(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.level = (self.level + elapsed * self.refill).min(self.capacity);
        self.updated = now;
    }

    /// How long until `amount` can be paid; zero if it can now. A request larger than the
    /// whole bucket waits for a full bucket (providers reject those outright; we let it drain).
    fn wait_for(&self, amount: f64) -> Duration {
        if !self.enforced || self.level >= amount.min(self.capacity) {
            return Duration::ZERO;
        }
        secs((amount.min(self.capacity) - self.level) / self.refill)
    }

    fn until_full(&self) -> Duration {
        secs((self.capacity - self.level).max(0.0) / self.refill)
    }
}

/// The bucket for requests whose key is unknown or not in a key list.
pub const UNKNOWN_KEY: usize = usize::MAX;

/// Seconds as a duration; an impossible wait (a bucket that never refills) is one day.
fn secs(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(86_400))
}

/// Buckets for every key and model seen so far.
#[derive(Debug)]
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(usize, String), (Bucket, Bucket)>>,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Limiter { limits, buckets: Mutex::new(HashMap::new()) }
    }

    /// Admits (and charges) one request of `tokens` tokens for key `key` and `model`, or says
    /// how long to wait.
    pub fn admit(&self, key: usize, model: &str, tokens: u64, now: Instant) -> Admission {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (requests, token_bucket) = buckets.entry((key, model.to_owned())).or_insert_with(|| {
            let minute = self.limits.minute;
            (
                Bucket::new(self.limits.rpm, NOMINAL_RPM, minute, now),
                Bucket::new(self.limits.tpm, NOMINAL_TPM, minute, now),
            )
        });
        requests.refill_to(now);
        token_bucket.refill_to(now);
        let request_wait = requests.wait_for(1.0);
        let token_wait = token_bucket.wait_for(tokens as f64);
        let limited = match (request_wait.is_zero(), token_wait.is_zero()) {
            (true, true) => None,
            (false, _) if request_wait >= token_wait => Some((LimitKind::Requests, request_wait)),
            _ => Some((LimitKind::Tokens, token_wait)),
        };
        if limited.is_none() {
            requests.level = (requests.level - 1.0).max(0.0);
            token_bucket.level = (token_bucket.level - tokens as f64).max(0.0);
        }
        let state = LimitState {
            limit_requests: requests.capacity as u64,
            remaining_requests: requests.level.max(0.0).floor() as u64,
            reset_requests: requests.until_full(),
            limit_tokens: token_bucket.capacity as u64,
            remaining_tokens: token_bucket.level.max(0.0).floor() as u64,
            reset_tokens: token_bucket.until_full(),
        };
        match limited {
            None => Admission::Admitted(state),
            Some((kind, wait)) => Admission::Limited { kind, wait, requested_tokens: tokens, state },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rpm: Option<u64>, tpm: Option<u64>) -> Limiter {
        Limiter::new(RateLimits::per_minute(rpm, tpm))
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_minute_refills_as_much_in_less_time() {
        let fast = RateLimits::per_minute(Some(60), None).at_speed(crate::speed::Speed::new(60.0).unwrap());
        assert_eq!(fast.minute, Duration::from_secs(1));
        let limiter = Limiter::new(fast);
        let now = Instant::now();
        for _ in 0..60 {
            assert!(matches!(limiter.admit(0, "m", 1, now), Admission::Admitted(_)));
        }
        let Admission::Limited { wait, state, .. } = limiter.admit(0, "m", 1, now) else { panic!("limited") };
        // The capacity is the same 60 requests; one comes back every 1/60 s, not every second.
        assert_eq!(state.limit_requests, 60);
        assert!(wait.abs_diff(Duration::from_secs(1) / 60) < Duration::from_micros(1), "{wait:?}");
        assert_eq!(state.reset_requests, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_refill_continuously() {
        let limiter = limiter(Some(60), None);
        let now = Instant::now();
        for _ in 0..60 {
            assert!(matches!(limiter.admit(0, "m", 10, now), Admission::Admitted(_)));
        }
        let Admission::Limited { kind, wait, state, .. } = limiter.admit(0, "m", 10, now) else {
            panic!("limited")
        };
        assert_eq!(kind, LimitKind::Requests);
        assert_eq!(wait, Duration::from_secs(1));
        assert_eq!(state.remaining_requests, 0);
        assert_eq!(state.reset_requests, Duration::from_secs(60));
        // One request a second comes back.
        assert!(matches!(limiter.admit(0, "m", 10, now + Duration::from_secs(1)), Admission::Admitted(_)));
        assert!(matches!(limiter.admit(0, "m", 10, now + Duration::from_secs(1)), Admission::Limited { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_say_how_long_until_the_request_fits() {
        let limiter = limiter(None, Some(6_000));
        let now = Instant::now();
        let Admission::Admitted(state) = limiter.admit(0, "m", 5_000, now) else { panic!("admitted") };
        assert_eq!(state.remaining_tokens, 1_000);
        let Admission::Limited { kind, wait, requested_tokens, .. } = limiter.admit(0, "m", 2_000, now)
        else {
            panic!("limited")
        };
        assert_eq!(kind, LimitKind::Tokens);
        assert_eq!(requested_tokens, 2_000);
        // 1 000 more tokens at 100 tokens/s.
        assert_eq!(wait, Duration::from_secs(10));
        assert!(matches!(limiter.admit(0, "m", 2_000, now + wait), Admission::Admitted(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn each_key_and_model_has_its_own_buckets() {
        let limiter = limiter(Some(1), None);
        let now = Instant::now();
        assert!(matches!(limiter.admit(0, "a", 1, now), Admission::Admitted(_)));
        assert!(matches!(limiter.admit(0, "a", 1, now), Admission::Limited { .. }));
        assert!(matches!(limiter.admit(1, "a", 1, now), Admission::Admitted(_)));
        assert!(matches!(limiter.admit(0, "b", 1, now), Admission::Admitted(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn without_limits_nothing_is_refused_and_headers_stay_nominal() {
        let limiter = limiter(None, None);
        let now = Instant::now();
        for _ in 0..20_000 {
            assert!(matches!(limiter.admit(0, "m", 100_000, now), Admission::Admitted(_)));
        }
        let Admission::Admitted(state) = limiter.admit(0, "m", 1, now) else { panic!() };
        assert_eq!(state.limit_requests, NOMINAL_RPM);
    }
}
