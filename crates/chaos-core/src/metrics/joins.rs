//! Figures that need all the attempts of one logical request side by side, joined by
//! correlation id (an attempt whose id the target dropped takes no part):
//!
//! - **Retry-After compliance.** An attempt whose answer asked for a wait (`retry-after-ms`,
//!   else `retry-after`) and that is followed by another attempt of the same logical request at
//!   the same upstream makes that next attempt a *retry asked to wait*. It *honoured* the ask
//!   when it arrived at the interposer at least the asked wait after the asking answer's body
//!   ended there. Both instants are taken at the interposer, where the answer ends a little
//!   before the target has read it, so a target that waited exactly as asked always complies.
//!   A retry sent to another upstream (a fallback) was not asked to wait by this one, nor was
//!   one that presented another key of the upstream's pool: a provider's 429 limits the key
//!   (its account) that asked, and a gateway that moves to the next key at once is pooling,
//!   not ignoring the ask.
//!   How closely it followed the ask is counted too: within tolerance, shorter or longer
//!   (`waits.rs`).
//! - **Duplicate calls.** A logical request whose attempts got more than one 2xx from the
//!   upstream itself (not a fault's answer) had its generation paid for more than once.
//! - **Retry gaps and failover times** (`gaps.rs`): the wait before each retry, wherever it went,
//!   and the time a request took to reach another upstream once its first one failed it.
//!   Attempts are ordered by arrival; an attempt whose answer never ended (the target hung up
//!   first) starts no gap and no failover, having no end to measure from.
//!
//! The calls of an agent's task (attempts naming their call, `AttemptRecord::call`) are joined
//! call by call: the next call is not a retry of the last, and each call's one 2xx is no
//! duplicate of another's.
//!
//! Memory stays bounded: a request's few attempts are kept only while it can still matter — until
//! [`GRACE`] after the load saw the request end, by which time every attempt it caused has been
//! recorded — then settled into its phase's [`JoinTotals`] and dropped. An attempt recorded
//! later than that is settled alone, at the end.

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use super::{
    gaps::Settled,
    waits::{against_ask, AgainstAsk},
    AttemptRecord,
};

/// How long after a logical request ended its attempts are still waited for.
pub const GRACE: Duration = Duration::from_secs(60);

/// Counts settled from joined requests.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct JoinTotals {
    /// Retries that followed, at the same upstream, an answer that asked for a wait.
    pub asked_retries: u64,
    /// Of those, the ones that arrived at least the asked wait after that answer ended.
    pub honoured_retries: u64,
    /// Logical requests with more than one upstream 2xx attempt.
    pub duplicate_requests: u64,
    /// Retries asked to wait that arrived within tolerance of the asked wait, either side.
    #[serde(default)]
    pub within_tolerance_retries: u64,
    /// Those that arrived later than the ask plus the tolerance.
    #[serde(default)]
    pub longer_retries: u64,
    /// Those that arrived sooner than the ask less the tolerance.
    #[serde(default)]
    pub shorter_retries: u64,
}

impl JoinTotals {
    pub fn merge(&mut self, other: &JoinTotals) {
        self.asked_retries += other.asked_retries;
        self.honoured_retries += other.honoured_retries;
        self.duplicate_requests += other.duplicate_requests;
        self.within_tolerance_retries += other.within_tolerance_retries;
        self.longer_retries += other.longer_retries;
        self.shorter_retries += other.shorter_retries;
    }

    /// A retry that waited `waited` after an answer that asked for `asked`.
    fn asked(&mut self, waited: Duration, asked: Duration) {
        self.asked_retries += 1;
        self.honoured_retries += u64::from(waited >= asked);
        match against_ask(waited, asked) {
            AgainstAsk::Shorter => self.shorter_retries += 1,
            AgainstAsk::Within => self.within_tolerance_retries += 1,
            AgainstAsk::Longer => self.longer_retries += 1,
        }
    }
}

/// What one attempt contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    /// The call of an agent's task it belongs to (`None` for a plain request).
    call: Option<u32>,
    upstream: usize,
    /// The index of the key it presented, when the upstream has a pool (`key-N`).
    key: Option<u32>,
    at: Duration,
    end: Option<Duration>,
    asked: Option<Duration>,
    success: bool,
    /// Not a complete 2xx: an error status, no answer, or a broken stream.
    failed: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    phase: usize,
    attempts: Vec<Seen>,
}

/// The attempts of requests that may still matter, by correlation id.
#[derive(Debug, Clone, Default)]
pub struct RequestJoins {
    pending: HashMap<u64, Pending>,
    /// Ended requests in about the order they ended, with when.
    ended: VecDeque<(Duration, u64)>,
    /// The latest end seen: the run's "now" for settling.
    latest: Duration,
}

impl RequestJoins {
    /// Keeps an attempt of logical request `id`, which belongs to `phase`.
    pub fn attempt(&mut self, phase: usize, id: u64, record: &AttemptRecord) {
        let seen = Seen {
            call: record.call,
            upstream: record.upstream,
            key: record.key.as_deref().and_then(|key| key.strip_prefix("key-")?.parse().ok()),
            at: record.at,
            end: record.answer_end(),
            asked: record.retry_after,
            success: record.upstream_success(),
            failed: !matches!(record.outcome, super::AttemptOutcome::Status(200..=299))
                || record.answer.completed == Some(false),
        };
        self.pending.entry(id).or_insert_with(|| Pending { phase, attempts: Vec::new() }).attempts.push(seen);
    }

    /// Logical request `id` ended at `at`; requests that ended [`GRACE`] before it are settled
    /// (`settled(phase, totals)`) and forgotten.
    pub fn ended(&mut self, id: u64, at: Duration, mut settled: impl FnMut(usize, &Settled)) {
        self.ended.push_back((at, id));
        self.latest = self.latest.max(at);
        while let Some(&(end, id)) = self.ended.front() {
            if end + GRACE > self.latest {
                break;
            }
            self.ended.pop_front();
            if let Some(pending) = self.pending.remove(&id) {
                settled(pending.phase, &settle(pending.attempts));
            }
        }
    }

    /// Settles every request still kept (at the end of a run).
    pub fn settle_all(&mut self, mut settled: impl FnMut(usize, &Settled)) {
        self.ended.clear();
        for (_, pending) in self.pending.drain() {
            settled(pending.phase, &settle(pending.attempts));
        }
    }

    /// Requests kept.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// What one request's attempts add up to, call by call.
fn settle(mut attempts: Vec<Seen>) -> Settled {
    attempts.sort_by_key(|seen| (seen.call, seen.at));
    let mut settled = Settled::default();
    for call in attempts.chunk_by(|a, b| a.call == b.call) {
        settle_call(call, &mut settled);
    }
    settled
}

/// Adds the attempts of one call (by arrival) to `settled`.
fn settle_call(attempts: &[Seen], settled: &mut Settled) {
    settled.failover = settled.failover.or(failover(attempts));
    for (index, seen) in attempts.iter().enumerate() {
        let Some(end) = seen.end else { continue };
        let later = &attempts[index + 1..];
        if let Some(next) = later.first() {
            settled.gaps.push((next.upstream, next.at.saturating_sub(end)));
        }
        let Some(asked) = seen.asked else { continue };
        if let Some(next) = later.iter().find(|next| (next.upstream, next.key) == (seen.upstream, seen.key)) {
            settled.totals.asked(next.at.saturating_sub(end), asked);
        }
    }
    let duplicate = attempts.iter().filter(|seen| seen.success).count() > 1;
    settled.totals.duplicate_requests = settled.totals.duplicate_requests.max(u64::from(duplicate));
}

/// From the end of the first failed answer at the upstream the request started at to the
/// arrival of its first attempt at another upstream after that (`attempts` by arrival).
fn failover(attempts: &[Seen]) -> Option<Duration> {
    let started_at = attempts.first()?.upstream;
    let failed = attempts.iter().position(|seen| seen.upstream == started_at && seen.failed)?;
    let end = attempts[failed].end?;
    let elsewhere = attempts[failed + 1..].iter().find(|seen| seen.upstream != started_at)?;
    Some(elsewhere.at.saturating_sub(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::AttemptOutcome;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// An attempt at `upstream` arriving at `at` ms, answered `status` after 10 ms, asking for
    /// `asked` ms.
    fn attempt(upstream: usize, at: u64, status: u16, asked: Option<u64>) -> AttemptRecord {
        let mut record = AttemptRecord::arrived(upstream, 0, Some(1), ms(at), Vec::new());
        record.outcome = AttemptOutcome::Status(status);
        record.answer.duration = Some(ms(10));
        record.retry_after = asked.map(ms);
        record
    }

    fn totals_of(records: &[AttemptRecord]) -> JoinTotals {
        let mut joins = RequestJoins::default();
        for record in records {
            joins.attempt(0, 1, record);
        }
        let mut totals = JoinTotals::default();
        joins.settle_all(|_, settled| totals.merge(&settled.totals));
        totals
    }

    fn settled_of(records: &[AttemptRecord]) -> Settled {
        let mut joins = RequestJoins::default();
        for record in records {
            joins.attempt(0, 1, record);
        }
        let mut all = Vec::new();
        joins.settle_all(|_, settled| all.push(settled.clone()));
        all.pop().expect("one request")
    }

    #[test]
    fn a_fixed_backoff_complies_with_a_short_ask_but_follows_only_asks_near_it() {
        // Asked 1.2 s, 3 s and 4.5 s; a 1 s then 2 s backoff (arrivals 10 ms after each end + wait).
        let asks = [1_200, 3_000, 4_500];
        let mut records = vec![attempt(0, 0, 429, Some(asks[0]))];
        records.push(attempt(0, 1_010, 429, Some(asks[1])));
        records.push(attempt(0, 3_020, 429, Some(asks[2])));
        records.push(attempt(0, 5_030, 200, None));
        let totals = totals_of(&records);
        assert_eq!(totals.asked_retries, 3);
        assert_eq!(totals.honoured_retries, 0, "1 s < 1.2 s, 2 s < 3 s, 2 s < 4.5 s");
        assert_eq!(
            (totals.within_tolerance_retries, totals.shorter_retries, totals.longer_retries),
            (1, 2, 0)
        );
        // The same asks, each waited exactly: every one complies and follows.
        let exact = [
            attempt(0, 0, 429, Some(1_200)),
            attempt(0, 1_210, 429, Some(3_000)),
            attempt(0, 4_220, 200, None),
        ];
        let exact = totals_of(&exact);
        assert_eq!((exact.honoured_retries, exact.within_tolerance_retries), (2, 2));
        let late = totals_of(&[attempt(0, 0, 429, Some(1_000)), attempt(0, 1_300, 200, None)]);
        assert_eq!((late.honoured_retries, late.longer_retries), (1, 1));
    }

    #[test]
    fn gaps_run_from_each_answer_end_to_the_next_arrival_by_the_later_upstream() {
        let settled =
            settled_of(&[attempt(0, 0, 503, None), attempt(0, 510, 503, None), attempt(1, 523, 200, None)]);
        assert_eq!(settled.gaps, [(0, ms(500)), (1, ms(3))]);
        // First failed answer at upstream 0 ended at 10 ms; upstream 1 reached at 523 ms.
        assert_eq!(settled.failover, Some(ms(513)));
    }

    #[test]
    fn no_failover_without_a_failure_first_or_without_another_upstream() {
        let retried_in_place = settled_of(&[attempt(0, 0, 503, None), attempt(0, 100, 200, None)]);
        assert_eq!(retried_in_place.failover, None);
        let hedged = settled_of(&[attempt(0, 0, 200, None), attempt(1, 5, 200, None)]);
        assert_eq!(hedged.failover, None, "the first upstream did not fail it");
        let mut hung = attempt(0, 0, 503, None);
        hung.answer.duration = None;
        let no_end = settled_of(&[hung, attempt(1, 30_000, 200, None)]);
        assert_eq!((no_end.failover, no_end.gaps.len()), (None, 0), "nothing to measure from");
        let mut cut = attempt(0, 0, 200, None);
        cut.answer.completed = Some(false);
        let after_cut = settled_of(&[cut, attempt(1, 12, 200, None)]);
        assert_eq!(after_cut.failover, Some(ms(2)), "a broken stream failed it");
    }

    #[test]
    fn a_retry_honours_the_wait_from_the_end_of_the_answer_that_asked() {
        // The 429 ends at 10 ms and asks for 1 s: a retry at 1010 ms complies, at 1009 ms not.
        let on_time = totals_of(&[attempt(0, 0, 429, Some(1000)), attempt(0, 1010, 200, None)]);
        assert_eq!((on_time.asked_retries, on_time.honoured_retries), (1, 1));
        let early = totals_of(&[attempt(0, 0, 429, Some(1000)), attempt(0, 1009, 200, None)]);
        assert_eq!((early.asked_retries, early.honoured_retries), (1, 0));
    }

    #[test]
    fn a_retry_on_another_key_of_the_pool_was_not_asked_to_wait() {
        let keyed = |key: &str, at, status, asked| {
            let mut record = attempt(0, at, status, asked);
            record.key = Some(key.to_owned());
            record
        };
        // key-0 asks 1 s; the gateway moves to key-1 at once (asked nothing of it), which asks
        // 1 s too; key-0 is tried again after its wait: one retry asked to wait, honoured.
        let pooled = [
            keyed("key-0", 0, 429, Some(1_000)),
            keyed("key-1", 20, 429, Some(1_000)),
            keyed("key-0", 1_010, 200, None),
        ];
        let totals = totals_of(&pooled);
        assert_eq!((totals.asked_retries, totals.honoured_retries), (1, 1));
        // The same key at once is a retry that did not wait.
        let same = totals_of(&[keyed("key-1", 0, 429, Some(1_000)), keyed("key-1", 20, 200, None)]);
        assert_eq!((same.asked_retries, same.honoured_retries), (1, 0));
    }

    #[test]
    fn records_in_any_order_pair_by_arrival_and_only_at_the_same_upstream() {
        // The retry's record comes first; a fallback to upstream 1 in between is not a retry of
        // upstream 0, and an answer that asked nothing asks nothing of its successor.
        let records = [attempt(0, 700, 200, None), attempt(1, 50, 503, None), attempt(0, 0, 429, Some(500))];
        let totals = totals_of(&records);
        assert_eq!((totals.asked_retries, totals.honoured_retries), (1, 1));
        let last_asks = totals_of(&[attempt(0, 0, 429, Some(500))]);
        assert_eq!(last_asks.asked_retries, 0, "no retry followed");
    }

    #[test]
    fn two_upstream_successes_make_a_duplicate_but_an_injected_200_does_not() {
        let twice = totals_of(&[attempt(0, 0, 200, None), attempt(0, 20, 200, None)]);
        assert_eq!(twice.duplicate_requests, 1);
        let mut injected = attempt(0, 0, 200, None);
        injected.injected = true;
        let once = totals_of(&[injected, attempt(0, 20, 200, None)]);
        assert_eq!(once.duplicate_requests, 0);
    }

    #[test]
    fn the_calls_of_an_agents_task_are_neither_retries_nor_duplicates_of_each_other() {
        let call = |call, upstream, at, status, asked| {
            let mut record = attempt(upstream, at, status, asked);
            record.call = Some(call);
            record
        };
        // Call 0 answered; call 1 asked to wait by a 429, retried; call 2 answered.
        let records = [
            call(0, 0, 0, 200, None),
            call(1, 0, 20, 429, Some(100)),
            call(1, 0, 140, 200, None),
            call(2, 0, 160, 200, None),
        ];
        let settled = settled_of(&records);
        assert_eq!(settled.totals.duplicate_requests, 0, "one 2xx a call");
        assert_eq!(settled.gaps, [(0, ms(110))], "only the retry waited");
        assert_eq!((settled.totals.asked_retries, settled.totals.honoured_retries), (1, 1));
        let twice =
            settled_of(&[call(0, 0, 0, 200, None), call(1, 0, 20, 200, None), call(1, 0, 40, 200, None)]);
        assert_eq!(twice.totals.duplicate_requests, 1, "a call paid for twice");
    }

    #[test]
    fn a_request_is_settled_and_forgotten_once_its_grace_has_passed() {
        let mut joins = RequestJoins::default();
        let mut phases = [JoinTotals::default(); 2];
        joins.attempt(1, 1, &attempt(0, 0, 200, None));
        joins.attempt(1, 1, &attempt(0, 20, 200, None));
        joins.ended(1, ms(30), |phase, settled| phases[phase].merge(&settled.totals));
        assert_eq!(joins.len(), 1, "kept through its grace");
        joins.attempt(0, 2, &attempt(0, 40, 200, None));
        joins.ended(2, ms(30) + GRACE, |phase, settled| phases[phase].merge(&settled.totals));
        assert_eq!(joins.len(), 1, "request 1 settled, request 2 kept");
        assert_eq!(phases[1].duplicate_requests, 1);
        assert_eq!(phases[0], JoinTotals::default());
    }

    #[test]
    fn issue_10_a_long_run_keeps_only_the_requests_of_the_last_grace() {
        // Ten minutes at 500 requests/s, each with a retry and an ended record: what is kept
        // never exceeds the requests of one grace (plus the one just ended), however long.
        const PER_SECOND: u64 = 500;
        let within_grace = usize::try_from(GRACE.as_secs() * PER_SECOND).unwrap_or(usize::MAX) + 1;
        let mut joins = RequestJoins::default();
        let mut settled = 0u64;
        for id in 0..600 * PER_SECOND {
            let at = id * 1000 / PER_SECOND;
            joins.attempt(0, id, &attempt(0, at, 429, Some(1)));
            joins.attempt(0, id, &attempt(0, at + 1, 200, None));
            joins.ended(id, ms(at + 2), |_, request| settled += request.totals.asked_retries);
            assert!(joins.len() <= within_grace, "{} requests kept at {id}", joins.len());
            assert!(joins.ended.len() <= within_grace, "{} ends kept at {id}", joins.ended.len());
        }
        assert_eq!(settled + joins.len() as u64, 600 * PER_SECOND, "every request settles once");
    }
}
