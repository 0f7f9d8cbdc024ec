//! The run second by second, as users lived it: for each second of the run clock, the requests
//! that *finished* in it, how they ended, and the percentiles of their latency (from the
//! intended start, and from the actual send beside it) and TTFT. Each second is an HDR histogram while it is open and shrinks to its
//! percentiles once closed, so a long run keeps a few numbers a second.
//!
//! Seconds are by finish time, as in HdrHistogram interval logs, because that is when an answer
//! was felt and because it lets a second close for good: records arrive in about the order
//! requests finish, so a second closes once a record two seconds later arrives (and every open
//! second closes at the end). Phases and SLO counts go by intended start instead.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{micros, LogicalRecord, Outcome, Percentiles};

/// One closed second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Second {
    /// Seconds since the run started.
    pub second: u64,
    /// Logical requests that finished in it (unfinished ones are not counted anywhere here).
    pub finished: u64,
    /// Of those, the ones that succeeded.
    pub ok: u64,
    /// Those that finished, by how they ended (`ok`, `http_429`, `timeout`, …).
    #[serde(default)]
    pub outcomes: BTreeMap<String, u64>,
    /// Their latency from the intended start (coordinated-omission-correct), milliseconds;
    /// `None` when none finished.
    pub latency_ms: Option<Percentiles>,
    /// Their latency from the actual send (what a closed-loop tool would report), milliseconds.
    #[serde(default)]
    pub service_time_ms: Option<Percentiles>,
    /// Their time to first token from the intended start, milliseconds; `None` when none had a
    /// token.
    pub ttft_ms: Option<Percentiles>,
}

#[derive(Debug, Clone)]
struct OpenSecond {
    finished: u64,
    outcomes: BTreeMap<Outcome, u64>,
    latency: Histogram<u32>,
    service_time: Histogram<u32>,
    ttft: Histogram<u32>,
}

impl Default for OpenSecond {
    fn default() -> Self {
        OpenSecond {
            finished: 0,
            outcomes: BTreeMap::new(),
            latency: micros::histogram(),
            service_time: micros::histogram(),
            ttft: micros::histogram(),
        }
    }
}

/// Seconds still open and those already closed.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    open: BTreeMap<u64, OpenSecond>,
    closed: Vec<Second>,
}

/// How far behind the newest record a second may still receive records.
const SLACK_SECONDS: u64 = 2;

fn micros_of(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl Timeline {
    pub fn add(&mut self, record: &LogicalRecord) {
        if record.outcome == Outcome::Unfinished {
            return;
        }
        let second = record.finished.as_secs();
        let open = self.open.entry(second).or_default();
        open.finished += 1;
        *open.outcomes.entry(record.outcome).or_insert(0) += 1;
        micros::record(&mut open.latency, micros_of(record.latency()), 1);
        micros::record(&mut open.service_time, micros_of(record.service_time()), 1);
        if let Some(ttft) = record.ttft() {
            micros::record(&mut open.ttft, micros_of(ttft), 1);
        }
        self.close_before(second.saturating_sub(SLACK_SECONDS));
    }

    /// Every second, the open ones closed as they stand.
    pub fn seconds(&self) -> Vec<Second> {
        let mut all = self.closed.clone();
        all.extend(self.open.iter().map(|(second, open)| close(*second, open)));
        all
    }

    fn close_before(&mut self, second: u64) {
        while let Some(entry) = self.open.first_entry() {
            if *entry.key() >= second {
                break;
            }
            let (second, open) = entry.remove_entry();
            // A record later than its second's closing (rare: out of order by > 2 s) reopens it;
            // the closed list then holds that second twice, each part exact.
            self.closed.push(close(second, &open));
        }
    }
}

/// The seconds of several runs side by side, one per second: counts add up; as only each
/// second's percentiles were kept, a merged second's are an upper bound
/// ([`Percentiles::upper`]), exact for the maximum.
pub fn merge<'a>(runs: impl IntoIterator<Item = &'a [Second]>) -> Vec<Second> {
    let mut merged: BTreeMap<u64, Second> = BTreeMap::new();
    for second in runs.into_iter().flatten() {
        let Some(into) = merged.get_mut(&second.second) else {
            merged.insert(second.second, second.clone());
            continue;
        };
        into.finished += second.finished;
        into.ok += second.ok;
        for (outcome, count) in &second.outcomes {
            *into.outcomes.entry(outcome.clone()).or_insert(0) += count;
        }
        into.latency_ms = Percentiles::upper(into.latency_ms, second.latency_ms);
        into.service_time_ms = Percentiles::upper(into.service_time_ms, second.service_time_ms);
        into.ttft_ms = Percentiles::upper(into.ttft_ms, second.ttft_ms);
    }
    merged.into_values().collect()
}

fn close(second: u64, open: &OpenSecond) -> Second {
    Second {
        second,
        finished: open.finished,
        ok: open.outcomes.get(&Outcome::Ok).copied().unwrap_or(0),
        outcomes: open.outcomes.iter().map(|(outcome, count)| (outcome.key(), *count)).collect(),
        latency_ms: Percentiles::of(&open.latency),
        service_time_ms: Percentiles::of(&open.service_time),
        ttft_ms: Percentiles::of(&open.ttft),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::finished_at;

    #[test]
    fn seconds_close_behind_the_newest_record_and_keep_only_percentiles() {
        let mut timeline = Timeline::default();
        timeline.add(&finished_at(100, 10, Outcome::Ok));
        timeline.add(&finished_at(900, 30, Outcome::HttpError(503)));
        timeline.add(&finished_at(1_500, 20, Outcome::Ok));
        assert!(timeline.closed.is_empty(), "second 0 may still get late records");
        timeline.add(&finished_at(3_100, 5, Outcome::Ok));
        assert_eq!(timeline.closed.len(), 1);
        assert_eq!(timeline.open.len(), 2, "seconds 1 and 3 stay open");
        let seconds = timeline.seconds();
        assert_eq!(
            seconds.iter().map(|s| (s.second, s.finished, s.ok)).collect::<Vec<_>>(),
            [(0, 2, 1), (1, 1, 1), (3, 1, 1)]
        );
        let outcomes: Vec<(&str, u64)> = seconds[0].outcomes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(outcomes, [("http_503", 1), ("ok", 1)]);
        let first = seconds[0].latency_ms.unwrap();
        assert!((first.max - 30.0).abs() < 0.1, "{first:?}");
        assert!(seconds[0].service_time_ms.is_some());
        timeline.add(&finished_at(3_200, 1, Outcome::Unfinished));
        assert_eq!(timeline.seconds().len(), 3, "an unfinished request has no second");
    }

    #[test]
    fn merged_seconds_add_counts_and_bound_percentiles_from_above() {
        let mut one = Timeline::default();
        one.add(&finished_at(100, 10, Outcome::Ok));
        one.add(&finished_at(1_100, 40, Outcome::Ok));
        let mut other = Timeline::default();
        other.add(&finished_at(200, 30, Outcome::HttpError(503)));
        let (one, other) = (one.seconds(), other.seconds());
        let merged = merge([one.as_slice(), other.as_slice()]);
        assert_eq!(
            merged.iter().map(|s| (s.second, s.finished, s.ok)).collect::<Vec<_>>(),
            [(0, 2, 1), (1, 1, 1)]
        );
        assert_eq!(merged[0].outcomes.len(), 2);
        let latency = merged[0].latency_ms.expect("latencies");
        assert!((latency.max - 30.0).abs() < 0.1 && (latency.p50 - 30.0).abs() < 0.1, "{latency:?}");
    }
}
