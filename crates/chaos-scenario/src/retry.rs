//! The official SDKs' retry policy as pure functions, as measured against openai-python,
//! anthropic-python and the node SDKs:
//! - retry 408, 409, 429 and every 5xx, plus connection errors and timeouts;
//! - `x-should-retry: true|false` from the server overrides the status rule;
//! - wait `retry-after-ms`, else `retry-after` (seconds, fractional, or an HTTP date) when the
//!   profile honours it; otherwise `min(0.5·2ⁿ, 8) s × (1 − 0.25·jitter)`, n = retries so far.
//!
//! The `naive` policy is the anti-pattern a home-made client or gateway falls into: it retries
//! every failure at once, with no backoff and no regard for `retry-after` — the cost blow-up a
//! chaos run should expose. The `exponential` policy is the subtler one: it retries what the
//! SDKs retry, after 1 s, 2 s, 4 s … (at most 8 s, no jitter), and never reads `retry-after` —
//! a backoff that waits "long enough" for a short ask and not at all as asked for a long one.
//!
//! Profiles differ only in what they do with a long server delay, as measured on loopback with
//! `retry-after: 121` (each profile names the version it follows: [`SdkProfile::follows`]):
//! - `openai-python` 2.52: over 120 s it gives up at once, without retrying; up to 120 s the
//!   delay is honoured.
//! - `anthropic-python` 2.17, `openai-node` 6.49 and `anthropic-node` (@anthropic-ai/sdk 1.17):
//!   any delay is honoured (the node SDKs up to 2³¹−1 ms, what a timer holds); the second
//!   attempt came 121 s later. Older releases (openai-python ≤ 2.51, anthropic-python before 2,
//!   openai-node before 5) backed off instead above 60 s; no profile follows them.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::{speed::Speed, wire::retry_after::server_wait};

/// Which SDK's retry behaviour to emulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SdkProfile {
    OpenAiPython,
    AnthropicPython,
    OpenAiNode,
    AnthropicNode,
}

/// How the built-in client retries: as an SDK does, or naively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryPolicy {
    Sdk(SdkProfile),
    /// Every failure, at once.
    Naive,
    /// What the SDKs retry, after 1 s · 2ⁿ (at most 8 s), whatever `retry-after` says.
    Exponential,
}

impl Default for RetryPolicy {
    /// openai-python's.
    fn default() -> Self {
        RetryPolicy::Sdk(SdkProfile::OpenAiPython)
    }
}

impl RetryPolicy {
    /// The names a scenario's `backoff` may use.
    pub const NAMES: &'static [&'static str] = &[
        "sdk",
        "openai-python",
        "anthropic-python",
        "openai-node",
        "anthropic-node",
        "naive",
        "exponential",
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "naive" => Some(RetryPolicy::Naive),
            "exponential" => Some(RetryPolicy::Exponential),
            other => SdkProfile::from_name(other).map(RetryPolicy::Sdk),
        }
    }

    /// Whether a failed attempt is retried: `status` and `headers` when an HTTP answer came
    /// back, `None` for a timeout or a connection error.
    pub fn retries(self, answer: Option<(u16, &HeaderMap)>) -> bool {
        match (self, answer) {
            (RetryPolicy::Naive, _) | (_, None) => true,
            (RetryPolicy::Sdk(_) | RetryPolicy::Exponential, Some((status, headers))) => {
                should_retry(status, headers)
            }
        }
    }

    /// Whether an answer that had a 2xx head but broke off (a cut or timed-out stream) is
    /// retried: only by the naive loop; the SDKs hand the stream to the caller at its head.
    pub fn retries_broken_answers(self) -> bool {
        self == RetryPolicy::Naive
    }

    /// The wait before retry number `retries_so_far + 1`, in wall time at `speed`: the
    /// server's wait is read as scenario time (× F) for the SDK's rules, and the chosen wait
    /// (the server's, or the backoff) played ÷ F.
    pub fn delay(
        self,
        retries_so_far: u32,
        headers: &HeaderMap,
        jitter: f64,
        now: SystemTime,
        speed: Speed,
    ) -> RetryAdvice {
        match self {
            RetryPolicy::Naive => RetryAdvice::Wait(Duration::ZERO),
            RetryPolicy::Exponential => RetryAdvice::Wait(speed.time(doubling(retries_so_far))),
            RetryPolicy::Sdk(profile) => {
                let asked = server_wait(headers, now).map(|wait| speed.scenario_time(wait));
                match retry_delay(profile, retries_so_far, asked, jitter) {
                    RetryAdvice::Wait(wait) => RetryAdvice::Wait(speed.time(wait)),
                    RetryAdvice::GiveUp => RetryAdvice::GiveUp,
                }
            }
        }
    }
}

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    Wait(Duration),
    /// The server asked for a wait the SDK refuses to make: raise now.
    GiveUp,
}

impl SdkProfile {
    /// The profile names a scenario may use (`sdk` means `openai-python`).
    pub const NAMES: &'static [&'static str] =
        &["sdk", "openai-python", "anthropic-python", "openai-node", "anthropic-node"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sdk" | "openai-python" => Some(SdkProfile::OpenAiPython),
            "anthropic-python" => Some(SdkProfile::AnthropicPython),
            "openai-node" => Some(SdkProfile::OpenAiNode),
            "anthropic-node" => Some(SdkProfile::AnthropicNode),
            _ => None,
        }
    }

    /// The SDK release whose retry rules the profile follows, for docs and results.
    pub fn follows(self) -> &'static str {
        match self {
            SdkProfile::OpenAiPython => "openai-python 2.52",
            SdkProfile::AnthropicPython => "anthropic-python 2.17",
            SdkProfile::OpenAiNode => "openai-node 6.49",
            SdkProfile::AnthropicNode => "@anthropic-ai/sdk 1.17",
        }
    }
}

/// Whether the SDKs retry an answer with this status and headers.
pub fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    }
}

/// The SDKs' exponential backoff; `jitter` is a uniform draw in `[0, 1)`.
pub fn backoff(retries_so_far: u32, jitter: f64) -> Duration {
    let base = (0.5 * 2f64.powi(retries_so_far.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter))
}

/// The `exponential` policy's wait: 1 s, 2 s, 4 s, then 8 s for every later retry.
pub fn doubling(retries_so_far: u32) -> Duration {
    Duration::from_secs(1 << retries_so_far.min(3))
}

/// How long to wait before the next retry, or whether to give up, given the wait the server
/// asked for ([`server_wait`]), if any.
pub fn retry_delay(
    profile: SdkProfile,
    retries_so_far: u32,
    asked: Option<Duration>,
    jitter: f64,
) -> RetryAdvice {
    const TWO_MINUTES: Duration = Duration::from_secs(120);
    // The longest a node timer waits (2³¹−1 ms); the node SDKs wait that long at most.
    const NODE_TIMER: Duration = Duration::from_millis(i32::MAX as u64);
    let backoff = RetryAdvice::Wait(backoff(retries_so_far, jitter));
    match (profile, asked) {
        (_, None) => backoff,
        (_, Some(wait)) if wait.is_zero() => backoff,
        (SdkProfile::OpenAiPython, Some(wait)) if wait > TWO_MINUTES => RetryAdvice::GiveUp,
        (SdkProfile::OpenAiPython | SdkProfile::AnthropicPython, Some(wait)) => RetryAdvice::Wait(wait),
        (SdkProfile::OpenAiNode | SdkProfile::AnthropicNode, Some(wait)) => {
            RetryAdvice::Wait(wait.min(NODE_TIMER))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn retryable_statuses_match_the_sdks() {
        let none = HeaderMap::new();
        for status in [408, 409, 429, 500, 502, 503, 529] {
            assert!(should_retry(status, &none), "{status}");
        }
        for status in [400, 401, 403, 404, 422] {
            assert!(!should_retry(status, &none), "{status}");
        }
        assert!(!should_retry(429, &headers(&[("x-should-retry", "false")])));
        assert!(should_retry(400, &headers(&[("x-should-retry", "true")])));
    }

    #[test]
    fn backoff_doubles_from_half_a_second_and_caps_at_eight() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(10, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(0, 1.0), Duration::from_millis(375));
    }

    fn wait(ms: u64) -> RetryAdvice {
        RetryAdvice::Wait(Duration::from_millis(ms))
    }

    #[test]
    fn server_wait_prefers_retry_after_ms_and_reads_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let delay = |h: &HeaderMap| retry_delay(SdkProfile::AnthropicPython, 0, server_wait(h, now), 0.0);
        assert_eq!(delay(&headers(&[("retry-after-ms", "1500"), ("retry-after", "9")])), wait(1500));
        assert_eq!(delay(&headers(&[("retry-after", "2.5")])), wait(2500));
        assert_eq!(delay(&headers(&[("retry-after", "0")])), wait(500));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(delay(&headers(&[("retry-after", &date)])), wait(30_000));
    }

    #[test]
    fn long_server_delays_differ_by_profile() {
        let now = SystemTime::UNIX_EPOCH;
        let ninety = headers(&[("retry-after", "90")]);
        let five_minutes = headers(&[("retry-after", "300")]);
        let delay = |profile, h: &HeaderMap| retry_delay(profile, 1, server_wait(h, now), 0.0);
        // anthropic-python 2.17 and the node SDKs honour any wait.
        assert_eq!(delay(SdkProfile::AnthropicPython, &ninety), wait(90_000));
        assert_eq!(delay(SdkProfile::OpenAiNode, &five_minutes), wait(300_000));
        assert_eq!(delay(SdkProfile::AnthropicNode, &five_minutes), wait(300_000));
        // openai-python >= v2.52 gives up at once beyond 120 s.
        assert_eq!(delay(SdkProfile::OpenAiPython, &five_minutes), RetryAdvice::GiveUp);
        assert_eq!(delay(SdkProfile::OpenAiPython, &ninety), wait(90_000));
        assert_eq!(SdkProfile::from_name("sdk"), Some(SdkProfile::OpenAiPython));
    }

    #[test]
    fn naive_retries_everything_at_once() {
        let asked = headers(&[("retry-after", "30"), ("x-should-retry", "false")]);
        let naive = RetryPolicy::from_name("naive").unwrap();
        assert!(naive.retries(Some((400, &asked))));
        assert_eq!(
            naive.delay(3, &asked, 0.5, SystemTime::UNIX_EPOCH, Speed::REAL_TIME),
            RetryAdvice::Wait(Duration::ZERO)
        );
        let sdk = RetryPolicy::from_name("sdk").unwrap();
        assert!(!sdk.retries(Some((429, &asked))), "the server's x-should-retry: false is obeyed");
        assert!(sdk.retries(None), "timeouts and connection errors are retried");
        assert!(naive.retries_broken_answers() && !sdk.retries_broken_answers());
    }

    #[test]
    fn exponential_waits_one_then_two_seconds_whatever_the_server_asks() {
        let exponential = RetryPolicy::from_name("exponential").unwrap();
        let asked = headers(&[("retry-after-ms", "4500"), ("retry-after", "5")]);
        let now = SystemTime::UNIX_EPOCH;
        let waits: Vec<RetryAdvice> =
            (0..5).map(|n| exponential.delay(n, &asked, 0.9, now, Speed::REAL_TIME)).collect();
        assert_eq!(waits, [wait(1000), wait(2000), wait(4000), wait(8000), wait(8000)]);
        assert!(exponential.retries(Some((429, &asked))) && exponential.retries(None));
        assert!(!exponential.retries(Some((400, &asked))), "what the SDKs leave, it leaves");
        assert!(!exponential.retries_broken_answers());
        let ten = Speed::new(10.0).unwrap();
        assert_eq!(exponential.delay(1, &asked, 0.0, now, ten), wait(200), "played faster at a speed");
    }

    #[test]
    fn at_speed_the_sdk_rules_read_scenario_time_and_the_wait_is_played_faster() {
        let sdk = RetryPolicy::from_name("sdk").unwrap();
        let anthropic = RetryPolicy::from_name("anthropic-python").unwrap();
        let sixty = Speed::new(60.0).unwrap();
        let now = SystemTime::UNIX_EPOCH;
        // A scaled `retry-after: 60` arrives as 1 s: honoured, and waited 1 s.
        let one = headers(&[("retry-after", "1")]);
        assert_eq!(sdk.delay(0, &one, 0.0, now, sixty), wait(1000));
        // 3 s at speed 60 stands for 180 s: openai-python gives up, anthropic-python waits it
        // (3 s of wall time).
        let three = headers(&[("retry-after", "3")]);
        assert_eq!(sdk.delay(0, &three, 0.0, now, sixty), RetryAdvice::GiveUp);
        let about = |advice, expected: Duration| matches!(advice, RetryAdvice::Wait(w) if w.abs_diff(expected) < Duration::from_micros(1));
        assert!(about(anthropic.delay(0, &three, 0.0, now, sixty), Duration::from_secs(3)));
        assert!(about(sdk.delay(1, &HeaderMap::new(), 0.0, now, sixty), Duration::from_secs(1) / 60));
    }

    #[test]
    fn at_retry_after_121_each_profile_does_what_its_sdk_was_measured_doing() {
        let asked = Some(Duration::from_secs(121));
        assert_eq!(retry_delay(SdkProfile::OpenAiPython, 0, asked, 0.0), RetryAdvice::GiveUp);
        for profile in [SdkProfile::AnthropicPython, SdkProfile::OpenAiNode, SdkProfile::AnthropicNode] {
            assert_eq!(retry_delay(profile, 0, asked, 0.0), wait(121_000), "{}", profile.follows());
        }
        let a_month = Some(Duration::from_secs(30 * 86_400));
        assert_eq!(retry_delay(SdkProfile::OpenAiNode, 0, a_month, 0.0), wait(i32::MAX as u64));
        assert_eq!(SdkProfile::from_name("anthropic-node"), Some(SdkProfile::AnthropicNode));
    }
}
