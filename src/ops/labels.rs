//! Label values for live metrics, each from a bounded set: a fixed list here, or a name the
//! scenario declares (its name, its phases, its upstreams). Never an id, a prompt, a URL, a key
//! or an error string — the return types (`&'static str`) keep the fixed ones fixed.

use crate::metrics::{AttemptOutcome, Outcome};

/// Every value [`outcome`] can return.
pub const OUTCOMES: [&str; 10] = [
    "ok",
    "http_2xx",
    "http_3xx",
    "http_4xx",
    "http_5xx",
    "http_other",
    "timeout",
    "connection_error",
    "stream_cut",
    "unfinished",
];

/// Every value [`status_class`] can return.
pub const STATUS_CLASSES: [&str; 8] =
    ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "unreachable", "cancelled_or_aborted"];

/// How a logical request ended, with HTTP errors by class.
pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::HttpError(status) => match class(status) {
            "2xx" => "http_2xx",
            "3xx" => "http_3xx",
            "4xx" => "http_4xx",
            "5xx" => "http_5xx",
            _ => "http_other",
        },
        Outcome::Timeout => "timeout",
        Outcome::ConnectionError => "connection_error",
        Outcome::StreamCut => "stream_cut",
        Outcome::Unfinished => "unfinished",
    }
}

/// How an attempt ended: the class of its status, or why it had none.
pub fn status_class(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Status(status) => class(status),
        AttemptOutcome::Unreachable => "unreachable",
        AttemptOutcome::Cancelled | AttemptOutcome::Aborted => "cancelled_or_aborted",
    }
}

fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// `"true"` or `"false"`.
pub fn flag(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_one_of_the_listed_values() {
        for status in [0, 101, 200, 302, 429, 503, 529, 600, 999, u16::MAX] {
            assert!(OUTCOMES.contains(&outcome(Outcome::HttpError(status))), "{status}");
            assert!(STATUS_CLASSES.contains(&status_class(AttemptOutcome::Status(status))), "{status}");
        }
        for ending in
            [Outcome::Ok, Outcome::Timeout, Outcome::ConnectionError, Outcome::StreamCut, Outcome::Unfinished]
        {
            assert!(OUTCOMES.contains(&outcome(ending)));
        }
        for ending in [AttemptOutcome::Unreachable, AttemptOutcome::Cancelled, AttemptOutcome::Aborted] {
            assert!(STATUS_CLASSES.contains(&status_class(ending)));
        }
        assert_eq!(outcome(Outcome::HttpError(429)), "http_4xx");
        assert_eq!(status_class(AttemptOutcome::Status(529)), "5xx");
    }
}
