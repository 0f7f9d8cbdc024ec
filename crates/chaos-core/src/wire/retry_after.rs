//! The wait a server asks for before a retry, read as the SDKs read it: `retry-after-ms` first
//! (Azure style, milliseconds), else `retry-after` (seconds, fractional, or an HTTP date).
//! Shared by the built-in client, which honours it, and the interposer, which records it so a
//! run can tell whether the target did.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName};

/// The wait the answer with these `headers` asked for, if any; an HTTP date counts from `now`.
pub fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    // Looked up by name, not by a string parsed into one each time (every answer is asked).
    const RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");
    let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header(&RETRY_AFTER_MS).and_then(|v| v.parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = header(&http::header::RETRY_AFTER)?;
    match value.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds).ok(),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    #[test]
    fn milliseconds_first_then_seconds_then_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let wait = |pairs: &[(&'static str, &str)]| server_wait(&headers(pairs), now);
        assert_eq!(
            wait(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(wait(&[("retry-after", "2.5")]), Some(Duration::from_millis(2500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(wait(&[("retry-after", &date)]), Some(Duration::from_secs(30)));
        assert_eq!(wait(&[("retry-after", "soon")]), None);
        assert_eq!(wait(&[]), None);
    }
}
