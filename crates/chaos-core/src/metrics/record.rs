//! The two kinds of record: a logical request (what a user sees) and an attempt (what a
//! provider sees and bills). Times are offsets from the run's start.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a logical request ended, as its client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// A 2xx event stream that ended before its terminator (`[DONE]`, `message_stop`), even if
    /// the client's SDK would have ended it silently.
    StreamCut,
    /// Still in flight when the run ended and the drain bound ran out.
    Unfinished,
}

impl Outcome {
    pub fn is_ok(self) -> bool {
        self == Outcome::Ok
    }

    /// The request as an SLO event: `Some(true)` good (a success), `Some(false)` bad (any other
    /// ending), `None` for one the drain cut off, which nobody knows how would have ended.
    pub fn slo_good(self) -> Option<bool> {
        match self {
            Outcome::Ok => Some(true),
            Outcome::Unfinished => None,
            Outcome::HttpError(_) | Outcome::Timeout | Outcome::ConnectionError | Outcome::StreamCut => {
                Some(false)
            }
        }
    }

    /// A stable key for tables and JSON, such as `ok`, `http_429`, `timeout`.
    pub fn key(self) -> String {
        match self {
            Outcome::Ok => "ok".to_owned(),
            Outcome::HttpError(status) => format!("http_{status}"),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::ConnectionError => "connection_error".to_owned(),
            Outcome::StreamCut => "stream_cut".to_owned(),
            Outcome::Unfinished => "unfinished".to_owned(),
        }
    }

    /// The outcome a [`key`](Outcome::key) stands for.
    pub fn from_key(key: &str) -> Option<Outcome> {
        match key {
            "ok" => Some(Outcome::Ok),
            "timeout" => Some(Outcome::Timeout),
            "connection_error" => Some(Outcome::ConnectionError),
            "stream_cut" => Some(Outcome::StreamCut),
            "unfinished" => Some(Outcome::Unfinished),
            other => other.strip_prefix("http_")?.parse().ok().map(Outcome::HttpError),
        }
    }
}

/// One logical request sent by the load generator. Serialized only between the roles of a
/// split run (a load shard hands its records to the upstreams role).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The upstream that gave the final answer, when the built-in client chose it.
    pub served_by: Option<usize>,
    /// How the final answer's body arrived, if one did.
    pub answer: Option<AnswerTiming>,
    /// The index of the key it presented in the target's key pool, when the target has one.
    pub key: Option<usize>,
}

/// How the final answer of a logical request arrived; instants are offsets on the run clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerTiming {
    /// When the response head arrived.
    pub head: Duration,
    /// When the first non-empty content arrived (for a non-streamed answer: its whole body).
    pub first_token: Option<Duration>,
    /// The longest gap between content events.
    pub longest_gap: Option<Duration>,
    /// Output tokens as `usage` reported them, else content events counted.
    pub output_tokens: u64,
}

impl AnswerTiming {
    /// An answer known only by when its head arrived.
    pub fn head_only(head: Duration) -> Self {
        AnswerTiming { head, first_token: None, longest_gap: None, output_tokens: 0 }
    }
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

    /// Time to first byte (the final answer's head) from the intended start.
    pub fn ttfb(&self) -> Option<Duration> {
        self.answer.map(|a| a.head.saturating_sub(self.intended))
    }

    /// Time to first token from the intended start: retries and waits before the final answer
    /// count, as the user waited through them.
    pub fn ttft(&self) -> Option<Duration> {
        self.answer.and_then(|a| a.first_token).map(|t| t.saturating_sub(self.intended))
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
    /// Which call of an agent's task it belongs to (`x-chaos-call`, from 0), where the request
    /// is one and the header survived the target: attempts of different calls are not retries
    /// of each other.
    pub call: Option<u32>,
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
    /// A POST: a request for generation, what a provider bills. A gateway's other calls (a
    /// `GET /v1/models` at start-up, say) are recorded but are not attempts of any request.
    pub generation: bool,
    /// How the answer went back, measured at the interposer.
    pub answer: AnswerStats,
    /// Tokens the provider billed for this attempt, as its answer's `usage` said or estimated;
    /// `None` when they cannot be known.
    pub usage: Option<TokenUsage>,
    /// The wait its answer asked for before a retry (`retry-after-ms`, else `retry-after`).
    pub retry_after: Option<Duration>,
    /// The key its fault draws were made with (from its correlation id and attempt number).
    pub draw_key: Option<u64>,
    /// Indices of the phase chain's rules that fired on it: the fault decision, as the journal
    /// keeps it and a replay imposes it.
    pub rules: Vec<usize>,
}

impl AttemptRecord {
    /// When its answer's body ended (or the target dropped it), on the run clock.
    pub fn answer_end(&self) -> Option<Duration> {
        self.answer.duration.map(|after| self.at + after)
    }

    /// Whether the upstream itself answered with a 2xx: generation the provider bills.
    pub fn upstream_success(&self) -> bool {
        !self.injected && matches!(self.outcome, AttemptOutcome::Status(200..=299))
    }
}

/// Tokens one attempt was billed for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    pub input: u64,
    pub output: u64,
    /// True when a count was estimated because the answer did not report it (a cut stream):
    /// input tokens from the request body, output tokens from the content events seen.
    pub estimated: bool,
}

impl TokenUsage {
    /// Nothing billed: an answer given before any generation (an error status, a fault's answer).
    pub const NONE: TokenUsage = TokenUsage { input: 0, output: 0, estimated: false };
}

impl AttemptRecord {
    /// An attempt that just arrived: cancelled until its outcome is known, nothing answered yet
    /// and nothing billed (until the upstream is asked).
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
            call: None,
            at,
            outcome: AttemptOutcome::Cancelled,
            injected: false,
            faults,
            key: None,
            model: None,
            generation: true,
            answer: AnswerStats::default(),
            usage: Some(TokenUsage::NONE),
            retry_after: None,
            draw_key: None,
            rules: Vec::new(),
        }
    }
}

/// Timing and size of one answer as it passed the interposer; offsets from the attempt's
/// arrival (its `at`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerStats {
    /// Until the response head went back.
    pub ttfb: Option<Duration>,
    /// Until the first body byte went back.
    pub first_byte: Option<Duration>,
    /// Until the first event carrying generated content went back (event streams only).
    pub first_token: Option<Duration>,
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

    /// The outcome a [`key`](AttemptOutcome::key) stands for.
    pub fn from_key(key: &str) -> Option<AttemptOutcome> {
        match key {
            "unreachable" => Some(AttemptOutcome::Unreachable),
            "cancelled" => Some(AttemptOutcome::Cancelled),
            "aborted" => Some(AttemptOutcome::Aborted),
            status => status.parse().ok().map(AttemptOutcome::Status),
        }
    }
}
