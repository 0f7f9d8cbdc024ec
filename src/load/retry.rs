//! The official SDKs' retry policy as pure functions (openai-python, anthropic-python,
//! openai-node; `../shared/facts/llm-wire.md`):
//! - retry 408, 409, 429 and every 5xx, plus connection errors and timeouts;
//! - `x-should-retry: true|false` from the server overrides the status rule;
//! - wait `retry-after-ms`, else `retry-after` (seconds, fractional, or an HTTP date) when it
//!   is in `(0, 60s]`; otherwise `min(0.5·2ⁿ, 8) s × (1 − 0.25·jitter)`, n = retries so far.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The longest server-requested wait the SDKs honour; longer ones fall back to backoff.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(60);

/// Whether the SDKs retry an answer with this status and headers.
pub fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    }
}

/// The wait the server asked for, if any, read as the SDKs read it.
pub fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = header("retry-after")?;
    match value.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds).ok(),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).ok(),
    }
}

/// The SDKs' exponential backoff; `jitter` is a uniform draw in `[0, 1)`.
pub fn backoff(retries_so_far: u32, jitter: f64) -> Duration {
    let base = (0.5 * 2f64.powi(retries_so_far.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter))
}

/// How long to wait before the next retry.
pub fn retry_delay(retries_so_far: u32, headers: &HeaderMap, jitter: f64, now: SystemTime) -> Duration {
    match server_wait(headers, now) {
        Some(wait) if !wait.is_zero() && wait <= MAX_SERVER_WAIT => wait,
        _ => backoff(retries_so_far, jitter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

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

    #[test]
    fn server_wait_prefers_retry_after_ms_and_caps_at_sixty_seconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let both = headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]);
        assert_eq!(retry_delay(0, &both, 0.0, now), Duration::from_millis(1500));
        assert_eq!(
            retry_delay(0, &headers(&[("retry-after", "2.5")]), 0.0, now),
            Duration::from_millis(2500)
        );
        assert_eq!(retry_delay(1, &headers(&[("retry-after", "61")]), 0.0, now), Duration::from_secs(1));
        assert_eq!(retry_delay(0, &headers(&[("retry-after", "0")]), 0.0, now), Duration::from_millis(500));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_delay(0, &headers(&[("retry-after", &date)]), 0.0, now), Duration::from_secs(30));
    }
}
