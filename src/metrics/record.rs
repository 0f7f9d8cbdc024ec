//! The two kinds of record: a logical request (what a user sees) and an attempt (what a
//! provider sees and bills). Times are offsets from the run's start.

use std::time::Duration;

use serde::Serialize;

/// How a logical request ended, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "class", content = "status")]
pub enum Outcome {
    /// A 2xx with a complete body.
    Ok,
    /// The final answer was an HTTP error with this status.
    HttpError(u16),
    /// No answer within the client's timeout.
    Timeout,
    /// The connection failed or broke.
    ConnectionError,
    /// Still in flight when the run ended and the drain bound ran out.
    Unfinished,
}

impl Outcome {
    pub fn is_ok(self) -> bool {
        self == Outcome::Ok
    }

    /// A stable key for tables and JSON, such as `ok`, `http_429`, `timeout`.
    pub fn key(self) -> String {
        match self {
            Outcome::Ok => "ok".to_owned(),
            Outcome::HttpError(status) => format!("http_{status}"),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::ConnectionError => "connection_error".to_owned(),
            Outcome::Unfinished => "unfinished".to_owned(),
        }
    }
}

/// One logical request sent by the load generator.
#[derive(Debug, Clone, PartialEq)]
pub struct LogicalRecord {
    /// The correlation id, also sent to the target in `x-chaos-request-id`.
    pub id: u64,
    /// When the schedule meant it to start.
    pub intended: Duration,
    /// When its first attempt was actually sent.
    pub sent: Duration,
    /// When the client gave its final answer.
    pub finished: Duration,
    /// Attempts the client made (its own count; the interposers count independently).
    pub client_attempts: u32,
    pub outcome: Outcome,
}

impl LogicalRecord {
    /// Latency from the intended start: what a user waiting on the schedule felt
    /// (coordinated-omission-correct).
    pub fn latency(&self) -> Duration {
        self.finished.saturating_sub(self.intended)
    }

    /// Latency from the actual send (service time).
    pub fn service_time(&self) -> Duration {
        self.finished.saturating_sub(self.sent)
    }
}

/// One request that reached an interposer.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Index of the upstream in the plan.
    pub upstream: usize,
    /// Index of the phase active at the interposer when the attempt arrived.
    pub phase: usize,
    /// The logical request's correlation id, where it survived the target.
    pub logical_id: Option<u64>,
    /// When the attempt arrived.
    pub at: Duration,
    pub outcome: AttemptOutcome,
    /// True when a fault answered instead of the upstream.
    pub injected: bool,
    /// Labels of the faults that fired.
    pub faults: Vec<String>,
    /// The presented key as `key-N` (its index in the upstream's key list), never its value.
    pub key: Option<String>,
    /// The requested model, when the interposer read the body.
    pub model: Option<String>,
    /// How the answer went back, measured at the interposer.
    pub answer: AnswerStats,
}

impl AttemptRecord {
    /// An attempt that just arrived: cancelled until its outcome is known, nothing answered yet.
    pub fn arrived(
        upstream: usize,
        phase: usize,
        logical_id: Option<u64>,
        at: Duration,
        faults: Vec<String>,
    ) -> Self {
        AttemptRecord {
            upstream,
            phase,
            logical_id,
            at,
            outcome: AttemptOutcome::Cancelled,
            injected: false,
            faults,
            key: None,
            model: None,
            answer: AnswerStats::default(),
        }
    }
}

/// Timing and size of one answer as it passed the interposer; offsets from the attempt's
/// arrival.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerStats {
    /// Until the response head went back.
    pub ttfb: Option<Duration>,
    /// Until the first body byte went back.
    pub first_byte: Option<Duration>,
    /// Until the body ended.
    pub duration: Option<Duration>,
    pub bytes: u64,
    /// For an event stream: whether it reached its terminator (`[DONE]`, `message_stop`); for
    /// any other body: whether it ended normally. `None` until it ends.
    pub completed: Option<bool>,
}

/// How an attempt ended at the interposer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttemptOutcome {
    /// This status went back to the target (from the upstream or from a fault).
    Status(u16),
    /// The upstream could not be reached; the target got the interposer's 502.
    Unreachable,
    /// The target hung up, or the run stopped, before an answer.
    Cancelled,
    /// A fault hung up on the target or reset the connection.
    Aborted,
}

impl AttemptOutcome {
    /// A stable key for tables and JSON: `200`, `429`, `unreachable`, `cancelled`.
    pub fn key(self) -> String {
        match self {
            AttemptOutcome::Status(status) => status.to_string(),
            AttemptOutcome::Unreachable => "unreachable".to_owned(),
            AttemptOutcome::Cancelled => "cancelled".to_owned(),
            AttemptOutcome::Aborted => "aborted".to_owned(),
        }
    }
}
