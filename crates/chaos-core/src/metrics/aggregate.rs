//! What a run keeps of its records: per phase, HDR histograms and counters; per second of
//! intended start, the successes and failures the SLO burn figures need. Each record is folded
//! in as it arrives and dropped, so a run's memory stays flat however long it lasts: phases ×
//! histograms, plus two counters a second.
//!
//! Joins: a logical request counts in the phase its schedule meant it to start in. An attempt
//! counts in its logical request's phase when its correlation id survived the target — ids
//! grow with intended start, so the first id of each phase places any id — and otherwise in
//! the phase active at the interposer when it arrived.
//!
//! Uncorrelated attempts: in a run whose target forwards correlation ids, an attempt without one
//! (or with an id no logical request has, like a preflight probe's) is the target's own — a
//! health check, a warm-up — and is counted apart (`uncorrelated`), never in the figures of
//! logical requests. Only when no attempt of the whole run carried an id (the target drops
//! them) do attempts count in the phase they arrived in, as they must.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{
    attempt_timeline::AttemptTimeline,
    gaps::{GapTotals, Settled},
    hdr_base64,
    joins::{JoinTotals, RequestJoins},
    key_totals::{self, KeyTotals},
    keyed,
    live::LiveWindow,
    micros,
    tallies::Tallies,
    timeline::Timeline,
    tokens::ModelTokens,
    AttemptOutcome, AttemptRecord, LogicalRecord, Outcome, Records,
};

/// Everything counted for one phase (or, merged, for the run). `results.json` holds it whole
/// (`tallies`), so that runs can be merged and their figures computed again exactly.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PhaseTotals {
    /// Logical requests meant to start in the phase.
    pub logical_requests: u64,
    /// Those requests by how they ended (`ok`, `http_503`, …).
    #[serde(with = "keyed")]
    #[schemars(with = "BTreeMap<String, u64>")]
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Microseconds from the intended start to the final answer's end; like the other five
    /// histograms, an HDR histogram (3 significant digits) in its V2 encoding, deflated, in
    /// base64.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub latency: Histogram<u32>,
    /// Microseconds from the actual send.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub service_time: Histogram<u32>,
    /// Microseconds to the final answer's head, from the intended start.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub ttfb: Histogram<u32>,
    /// Microseconds to the first token, from the intended start.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub ttft: Histogram<u32>,
    /// Inter-token gaps, microseconds.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub itl: Histogram<u32>,
    /// Each answer's longest gap between tokens, microseconds.
    #[serde(with = "hdr_base64")]
    #[schemars(with = "String")]
    pub stall: Histogram<u32>,
    /// Output tokens of the final answers.
    pub output_tokens: u64,
    pub attempts: u64,
    /// Attempts a fault answered.
    pub injected: u64,
    /// Attempts whose event stream ended without its terminator.
    pub incomplete_streams: u64,
    /// Attempts placed by their correlation id.
    pub joined: u64,
    /// Attempts by how they ended (`200`, `unreachable`, …).
    #[serde(with = "keyed")]
    #[schemars(with = "BTreeMap<String, u64>")]
    pub attempt_statuses: BTreeMap<AttemptOutcome, u64>,
    /// Of those, the attempts a fault answered, by how they ended.
    #[serde(with = "keyed")]
    #[schemars(with = "BTreeMap<String, u64>")]
    pub injected_statuses: BTreeMap<AttemptOutcome, u64>,
    /// 2xx attempts by upstream index: who actually served.
    pub served: BTreeMap<usize, u64>,
    /// Tokens billed to the attempts, by model.
    #[schemars(with = "Vec<super::tokens::ModelTally>")]
    pub billed: ModelTokens,
    /// Retry-After compliance and duplicate calls, from requests joined by correlation id.
    pub joins: JoinTotals,
    /// Attempts that carried no logical request's id, in a run whose target forwards ids: the
    /// target's own (health checks, warm-ups), counted apart from every figure above.
    #[serde(default)]
    pub uncorrelated: u64,
    /// Tokens billed to those uncorrelated attempts, by model: paid for, in no figure of the
    /// logical requests.
    #[serde(default)]
    #[schemars(with = "Vec<super::tokens::ModelTally>")]
    pub uncorrelated_billed: ModelTokens,
    /// Logical requests by the index of the key they presented, when the target has a key
    /// pool (`target.keys_env`, `keys_file`); empty otherwise.
    #[serde(default)]
    pub keys: BTreeMap<usize, KeyTotals>,
    /// Retry gaps and failover times, from requests joined by correlation id.
    #[serde(default)]
    pub gaps: GapTotals,
    /// Microseconds from the run's start to the arrival of the first attempt each upstream
    /// answered with a 2xx of its own, by upstream index.
    #[serde(default)]
    pub first_served_us: BTreeMap<usize, u64>,
}

impl Default for PhaseTotals {
    fn default() -> Self {
        PhaseTotals {
            logical_requests: 0,
            outcomes: BTreeMap::new(),
            latency: micros::histogram(),
            service_time: micros::histogram(),
            ttfb: micros::histogram(),
            ttft: micros::histogram(),
            itl: micros::histogram(),
            stall: micros::histogram(),
            output_tokens: 0,
            attempts: 0,
            injected: 0,
            incomplete_streams: 0,
            joined: 0,
            attempt_statuses: BTreeMap::new(),
            injected_statuses: BTreeMap::new(),
            served: BTreeMap::new(),
            billed: ModelTokens::default(),
            joins: JoinTotals::default(),
            uncorrelated: 0,
            uncorrelated_billed: ModelTokens::default(),
            keys: BTreeMap::new(),
            gaps: GapTotals::default(),
            first_served_us: BTreeMap::new(),
        }
    }
}

impl PhaseTotals {
    /// Logical requests that ended this way.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    /// Adds another phase's (or run's) counts: histograms merge exactly.
    pub fn merge(&mut self, other: &PhaseTotals) {
        self.logical_requests += other.logical_requests;
        for (outcome, count) in &other.outcomes {
            *self.outcomes.entry(*outcome).or_insert(0) += count;
        }
        for (mine, theirs) in self.histograms_mut().into_iter().zip(other.histograms()) {
            // Both grow as needed, so adding cannot fail for lack of range.
            let _ = mine.add(theirs);
        }
        self.output_tokens += other.output_tokens;
        self.attempts += other.attempts;
        self.injected += other.injected;
        self.incomplete_streams += other.incomplete_streams;
        self.joined += other.joined;
        for (mine, theirs) in [
            (&mut self.attempt_statuses, &other.attempt_statuses),
            (&mut self.injected_statuses, &other.injected_statuses),
        ] {
            for (status, count) in theirs {
                *mine.entry(*status).or_insert(0) += count;
            }
        }
        for (upstream, count) in &other.served {
            *self.served.entry(*upstream).or_insert(0) += count;
        }
        self.billed.merge(&other.billed);
        self.joins.merge(&other.joins);
        self.uncorrelated += other.uncorrelated;
        self.uncorrelated_billed.merge(&other.uncorrelated_billed);
        key_totals::merge_keys(&mut self.keys, &other.keys);
        self.gaps.merge(&other.gaps);
        for (upstream, at) in &other.first_served_us {
            self.served_first(*upstream, *at);
        }
    }

    /// Upstream `upstream` served an attempt that arrived `at_us` into the run.
    fn served_first(&mut self, upstream: usize, at_us: u64) {
        let first = self.first_served_us.entry(upstream).or_insert(at_us);
        *first = (*first).min(at_us);
    }

    fn histograms(&self) -> [&Histogram<u32>; 6] {
        [&self.latency, &self.service_time, &self.ttfb, &self.ttft, &self.itl, &self.stall]
    }

    fn histograms_mut(&mut self) -> [&mut Histogram<u32>; 6] {
        [
            &mut self.latency,
            &mut self.service_time,
            &mut self.ttfb,
            &mut self.ttft,
            &mut self.itl,
            &mut self.stall,
        ]
    }
}

/// Successes and failures of the logical requests meant to start in one second; requests cut
/// off by the drain are neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SecondTotals {
    /// Requests that succeeded.
    pub ok: u64,
    /// Requests that ended otherwise.
    pub failed: u64,
}

/// A run's records, folded.
#[derive(Debug, Clone)]
pub struct Aggregate {
    phase_ends: Vec<Duration>,
    pub phases: Vec<PhaseTotals>,
    /// By second of intended start, from the run's start.
    pub seconds: Vec<SecondTotals>,
    /// The first logical id started in each phase, by stripe of ids ([`Aggregate::striped`]).
    first_ids: Vec<Vec<Option<u64>>>,
    /// Logical requests started in each phase.
    started: Vec<u64>,
    /// The highest id a logical request has started with.
    highest_id: Option<u64>,
    /// Second by second, by finish time.
    pub timeline: Timeline,
    /// Attempts second by second, by arrival at an interposer.
    pub attempt_timeline: AttemptTimeline,
    /// The last minutes of finished requests, for watching the run live.
    pub live: LiveWindow,
    /// Requests through the interposers that asked for no generation (not attempts).
    pub other_requests: u64,
    /// Attempts of requests that may still be retried, until they settle into `phases`.
    joins: RequestJoins,
    /// Per phase of arrival, the attempts that carried no known id: kept apart, and folded into
    /// `phases` on settling only if no attempt of the run carried one.
    uncorrelated: Vec<PhaseTotals>,
}

fn add_duration(histogram: &mut Histogram<u32>, duration: Duration) {
    micros::record(histogram, u64::try_from(duration.as_micros()).unwrap_or(u64::MAX), 1);
}

impl Aggregate {
    /// An empty aggregate for phases ending at `phase_ends` (in order).
    pub fn new(phase_ends: Vec<Duration>) -> Self {
        let phases = vec![PhaseTotals::default(); phase_ends.len().max(1)];
        let first_ids = vec![vec![None; phases.len()]];
        let started = vec![0; phases.len()];
        let uncorrelated = vec![PhaseTotals::default(); phases.len()];
        Aggregate {
            phase_ends,
            phases,
            seconds: Vec::new(),
            first_ids,
            started,
            highest_id: None,
            timeline: Timeline::default(),
            attempt_timeline: AttemptTimeline::default(),
            live: LiveWindow::default(),
            other_requests: 0,
            joins: RequestJoins::default(),
            uncorrelated,
        }
    }

    /// The same, for the requests of `shards` load generators whose ids interleave (shard K's
    /// are K+1, N+K+1, 2N+K+1, …: `--shard K/N`): each shard's ids rise with its intended
    /// starts, but the shards' together need not, so a request's phase is found among its own
    /// shard's.
    pub fn striped(mut self, shards: u32) -> Self {
        self.first_ids = vec![vec![None; self.phases.len()]; shards.max(1) as usize];
        self
    }

    /// The stripe of ids `id` is in.
    fn stripe(&self, id: u64) -> usize {
        (id.saturating_sub(1) % self.first_ids.len() as u64) as usize
    }

    /// Folds kept records (in the order ids were started), for analyses of records made by hand.
    pub fn from_records(phase_ends: Vec<Duration>, records: &Records) -> Self {
        Aggregate::new(phase_ends).folding(records)
    }

    /// This aggregate with kept records folded in, in the order ids were started: every start
    /// first, so each attempt finds its request whenever it was recorded.
    pub fn folding(self, records: &Records) -> Self {
        let mut aggregate = self;
        let mut logical: Vec<&LogicalRecord> = records.logical.iter().collect();
        logical.sort_by_key(|r| r.id);
        for record in &logical {
            aggregate.started(record.id, record.intended);
        }
        for record in logical {
            aggregate.logical(record);
        }
        for attempt in &records.attempts {
            aggregate.attempt(attempt);
        }
        for (intended, gaps_us) in &records.token_gaps {
            aggregate.token_gaps(*intended, gaps_us);
        }
        aggregate.settle();
        aggregate
    }

    /// A copy with every request still kept settled into its phase: the figures as they stand.
    pub fn settled(&self) -> Aggregate {
        let mut settled = self.clone();
        settled.settle();
        settled
    }

    fn settle(&mut self) {
        let phases = &mut self.phases;
        self.joins.settle_all(|phase, totals| merge_joins(phases, phase, totals));
        let correlated = self.phases.iter().any(|phase| phase.joined > 0);
        for (phase, apart) in self.phases.iter_mut().zip(&mut self.uncorrelated) {
            if correlated {
                phase.uncorrelated += apart.attempts;
                phase.uncorrelated_billed.merge(&apart.billed);
            } else {
                phase.merge(apart);
            }
            *apart = PhaseTotals::default();
        }
    }

    /// Phases now end at `phase_ends` (as many as before); records already folded stay where
    /// they are.
    pub fn reschedule(&mut self, phase_ends: Vec<Duration>) {
        if phase_ends.len() == self.phase_ends.len() {
            self.phase_ends = phase_ends;
        }
    }

    /// The phase whose window holds `at` (the last phase holds everything after it).
    pub fn phase_at(&self, at: Duration) -> usize {
        self.phase_ends.iter().position(|end| at < *end).unwrap_or(self.phases.len() - 1)
    }

    /// The counts every figure is computed from, as they stand.
    pub fn tallies(&self) -> Tallies {
        Tallies { phases: self.phases.clone(), slo_seconds: self.seconds.clone() }
    }

    /// Logical request `id`, meant to start at `intended`, has started.
    pub fn started(&mut self, id: u64, intended: Duration) {
        let phase = self.phase_at(intended);
        let stripe = self.stripe(id);
        let first = &mut self.first_ids[stripe][phase];
        *first = Some(first.map_or(id, |known| known.min(id)));
        self.started[phase] += 1;
        self.highest_id = Some(self.highest_id.map_or(id, |highest| highest.max(id)));
    }

    /// Whether every logical request started in `phase` has ended (and been recorded).
    pub fn phase_ended(&self, phase: usize) -> bool {
        self.phases
            .get(phase)
            .zip(self.started.get(phase))
            .is_some_and(|(totals, started)| totals.logical_requests >= *started)
    }

    pub fn logical(&mut self, record: &LogicalRecord) {
        self.timeline.add(record);
        self.live.add(record);
        let phases = &mut self.phases;
        self.joins.ended(record.id, record.finished, |phase, totals| merge_joins(phases, phase, totals));
        let index = self.phase_at(record.intended);
        let phase = &mut self.phases[index];
        phase.logical_requests += 1;
        *phase.outcomes.entry(record.outcome).or_insert(0) += 1;
        if let Some(key) = record.key {
            phase.keys.entry(key).or_default().add(record);
        }
        // An unfinished request has no latency: the drain cut it off at an arbitrary time.
        if record.outcome != Outcome::Unfinished {
            record_into(phase, record);
        }
        let second = usize::try_from(record.intended.as_secs()).unwrap_or(usize::MAX);
        if second >= self.seconds.len() && second < usize::MAX {
            self.seconds.resize(second + 1, SecondTotals::default());
        }
        if let Some(totals) = self.seconds.get_mut(second) {
            match record.outcome.slo_good() {
                Some(true) => totals.ok += 1,
                Some(false) => totals.failed += 1,
                None => {}
            }
        }
    }

    /// Inter-token gaps of the answer to a request meant to start at `intended`.
    pub fn token_gaps(&mut self, intended: Duration, gaps_us: &[u32]) {
        let phase = self.phase_at(intended);
        let itl = &mut self.phases[phase].itl;
        for gap in gaps_us {
            micros::record(itl, u64::from(*gap), 1);
        }
    }

    pub fn attempt(&mut self, attempt: &AttemptRecord) {
        if !attempt.generation {
            self.other_requests += 1;
            return;
        }
        self.attempt_timeline.add(attempt);
        let joined = attempt.logical_id.and_then(|id| self.phase_of_id(id));
        let last = self.phases.len() - 1;
        let phase = match joined {
            Some(phase) => &mut self.phases[phase.min(last)],
            None => &mut self.uncorrelated[attempt.phase.min(last)],
        };
        phase.attempts += 1;
        phase.injected += u64::from(attempt.injected);
        phase.incomplete_streams += u64::from(attempt.answer.completed == Some(false));
        phase.joined += u64::from(joined.is_some());
        *phase.attempt_statuses.entry(attempt.outcome).or_insert(0) += 1;
        if attempt.injected {
            *phase.injected_statuses.entry(attempt.outcome).or_insert(0) += 1;
        }
        if matches!(attempt.outcome, AttemptOutcome::Status(200..=299)) {
            *phase.served.entry(attempt.upstream).or_insert(0) += 1;
        }
        if attempt.upstream_success() {
            phase.served_first(attempt.upstream, u64::try_from(attempt.at.as_micros()).unwrap_or(u64::MAX));
        }
        phase.billed.add(attempt);
        if let (Some(phase), Some(id)) = (joined, attempt.logical_id) {
            self.joins.attempt(phase, id, attempt);
        }
    }

    /// Every token billed so far, by phase: the logical requests' attempts and the uncorrelated
    /// ones, settled or not (what the spend guard adds up).
    pub fn all_billed(&self) -> ModelTokens {
        let settled = self.phases.iter().flat_map(|phase| [&phase.billed, &phase.uncorrelated_billed]);
        settled.chain(self.uncorrelated.iter().map(|apart| &apart.billed)).collect()
    }

    /// The phase logical request `id` started in; `None` for an id no request of the run has
    /// started with (above the highest yet, like a preflight probe's).
    fn phase_of_id(&self, id: u64) -> Option<usize> {
        if self.highest_id.is_none_or(|highest| id > highest) {
            return None;
        }
        self.first_ids[self.stripe(id)].iter().rposition(|first| first.is_some_and(|first| first <= id))
    }
}

fn merge_joins(phases: &mut [PhaseTotals], phase: usize, settled: &Settled) {
    let last = phases.len() - 1;
    let phase = &mut phases[phase.min(last)];
    phase.joins.merge(&settled.totals);
    phase.gaps.add(settled);
}

fn record_into(phase: &mut PhaseTotals, record: &LogicalRecord) {
    add_duration(&mut phase.latency, record.latency());
    add_duration(&mut phase.service_time, record.service_time());
    let answer = record.answer;
    let timings = [
        (&mut phase.ttfb, record.ttfb()),
        (&mut phase.ttft, record.ttft()),
        (&mut phase.stall, answer.and_then(|a| a.longest_gap)),
    ];
    for (histogram, duration) in timings {
        if let Some(duration) = duration {
            add_duration(histogram, duration);
        }
    }
    phase.output_tokens += answer.map_or(0, |a| a.output_tokens);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::AnswerStats;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn logical(id: u64, intended: Duration, outcome: Outcome) -> LogicalRecord {
        crate::test_support::request(id, intended, intended + Duration::from_millis(5), outcome)
    }

    fn attempt(logical_id: Option<u64>, phase: usize, status: u16) -> AttemptRecord {
        let mut record = AttemptRecord::arrived(0, phase, logical_id, secs(0), Vec::new());
        record.outcome = AttemptOutcome::Status(status);
        record.answer = AnswerStats::default();
        record
    }

    #[test]
    fn attempts_follow_their_logical_request_or_else_their_arrival() {
        let mut aggregate = Aggregate::new(vec![secs(10), secs(20)]);
        aggregate.started(1, secs(9));
        aggregate.started(2, secs(12));
        // A retry of request 1 that reached the interposer during the second phase still counts
        // in the first; an attempt whose id the target dropped counts where it arrived.
        aggregate.attempt(&attempt(Some(1), 1, 503));
        aggregate.attempt(&attempt(Some(2), 1, 200));
        aggregate.attempt(&attempt(None, 1, 200));
        let settled = aggregate.settled();
        let [first, second] = &settled.phases[..] else { panic!("two phases") };
        assert_eq!((first.attempts, first.joined), (1, 1));
        assert_eq!((second.attempts, second.joined, second.uncorrelated), (1, 1, 1), "the id-less one apart");
        assert_eq!(settled.tallies().overall().attempts, 2);

        // When no attempt of the run carries an id, the target drops them: attempts count where
        // they arrived.
        let mut dropped = Aggregate::new(vec![secs(10), secs(20)]);
        dropped.started(1, secs(9));
        dropped.attempt(&attempt(None, 0, 503));
        dropped.attempt(&attempt(None, 1, 200));
        let settled = dropped.settled();
        let counts: Vec<_> = settled.phases.iter().map(|p| (p.attempts, p.joined, p.uncorrelated)).collect();
        assert_eq!(counts, [(1, 0, 0), (1, 0, 0)]);
        assert_eq!(settled.phases[1].served.get(&0), Some(&1));
    }

    #[test]
    fn unfinished_requests_count_but_have_no_latency_and_no_slo_event() {
        let mut aggregate = Aggregate::new(vec![secs(2)]);
        aggregate.logical(&logical(1, secs(0), Outcome::Ok));
        aggregate.logical(&logical(2, secs(1), Outcome::HttpError(503)));
        aggregate.logical(&logical(3, secs(1), Outcome::Unfinished));
        let phase = &aggregate.phases[0];
        assert_eq!(phase.logical_requests, 3);
        assert_eq!(phase.latency.len(), 2);
        assert_eq!(aggregate.seconds, [SecondTotals { ok: 1, failed: 0 }, SecondTotals { ok: 0, failed: 1 }]);
    }

    #[test]
    fn folding_keeps_nothing_per_request() {
        let mut aggregate = Aggregate::new(vec![secs(60)]);
        for id in 0..100_000 {
            let intended = Duration::from_micros(id * 600);
            aggregate.started(id, intended);
            aggregate.logical(&logical(id, intended, Outcome::Ok));
            aggregate.attempt(&attempt(Some(id), 0, 200));
        }
        // 100 000 requests over 60 s: one counter pair a second, one set of histograms.
        assert_eq!(aggregate.seconds.len(), 60);
        assert_eq!(aggregate.phases[0].logical_requests, 100_000);
        assert_eq!(aggregate.phases[0].joined, 100_000);
    }

    #[test]
    fn striped_ids_place_each_attempt_in_its_own_shards_phase() {
        // Two shards, phase 0 until 1 s: shard 0 (odd ids) reaches phase 1 at its second
        // request, shard 1 (even ids) only at its fourth.
        let ms = Duration::from_millis;
        let starts = [(1, 100), (3, 1100), (2, 200), (4, 500), (6, 900), (8, 1300)];
        let logical: Vec<LogicalRecord> =
            starts.iter().map(|&(id, at)| logical(id, ms(at), Outcome::Ok)).collect();
        let attempts = logical.iter().map(crate::test_support::attempt_of).collect();
        let records = Records { logical, attempts, ..Default::default() };
        let ends = vec![secs(1), secs(2)];
        let striped = Aggregate::new(ends.clone()).striped(2).folding(&records);
        let attempts = |aggregate: &Aggregate| [aggregate.phases[0].attempts, aggregate.phases[1].attempts];
        assert_eq!(attempts(&striped), [4, 2], "ids 1, 2, 4, 6 started in phase 0");
        let unstriped = Aggregate::from_records(ends, &records);
        assert_eq!(attempts(&unstriped), [2, 4], "one stripe takes id 3 as phase 1's first for all");
    }
}
