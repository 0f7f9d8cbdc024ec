//! A fault chain: the ordered rules one interposer applies during one phase, with per-request
//! dosing drawn from a seeded RNG.
//!
//! When a request names its attempt (`RequestView::draw_key`: correlation id and attempt number),
//! its draws come from an RNG seeded by the chain's seed and that key: the same attempt gets
//! the same decision in every run with the same seed, whatever else was in flight. Otherwise
//! draws come from one shared stream (same seed and same arrival order → same decisions).
//!
//! Delays add up along the chain; the first rule that responds ends it.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

use rand::{rngs::StdRng, Rng, SeedableRng};

use super::{ConnectionFault, Decision, Dose, FaultAction, Matcher, RequestView};
use crate::wire::CannedResponse;

/// One rule: an action, which requests it applies to, and how often it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub action: FaultAction,
    pub matcher: Matcher,
    pub dose: Dose,
}

impl FaultRule {
    /// A rule for every request, firing with `probability`.
    pub fn new(action: FaultAction, probability: f64) -> Self {
        FaultRule { action, matcher: Matcher::default(), dose: Dose { probability, ..Dose::default() } }
    }
}

/// The combined decision of a whole chain for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChainDecision {
    /// Total delay to apply before answering or forwarding.
    pub delay: Duration,
    /// Set when a rule answers in the upstream's place.
    pub response: Option<CannedResponse>,
    /// Labels of the rules that took effect on the request (not stream faults: see `stream`).
    pub fired: Vec<String>,
    /// Stream faults that fired: applied to the events of the response.
    pub stream: Vec<FaultAction>,
    /// Set when a rule ends the exchange below HTTP (hang, reset).
    pub connection: Option<ConnectionFault>,
    /// The answer's byte rate, when a `bandwidth` fault fired (the lowest if several did).
    pub bandwidth: Option<u64>,
    /// Indices in the chain of the rules that fired, in order: the decision as a journal keeps
    /// it, and as a replay imposes it ([`Chain::decide_as`]).
    pub rules: Vec<usize>,
}

impl ChainDecision {
    /// True when the chain changed nothing about the request.
    pub fn is_pass(&self) -> bool {
        self.fired.is_empty() && self.stream.is_empty()
    }

    /// This decision followed by `next`'s, as if their rules were one chain: delays add up,
    /// labels and stream faults are kept in order, the lower bandwidth holds, and an answer or
    /// a connection fault here ends it before `next` counts.
    pub fn then(mut self, next: impl FnOnce() -> ChainDecision) -> ChainDecision {
        if self.response.is_some() || self.connection.is_some() {
            return self;
        }
        let next = next();
        self.delay += next.delay;
        self.fired.extend(next.fired);
        self.stream.extend(next.stream);
        self.response = next.response;
        self.connection = next.connection;
        self.bandwidth = match (self.bandwidth, next.bandwidth) {
            (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
        self
    }
}

/// The rules an interposer applies, in order, with their own seeded RNG.
#[derive(Debug)]
pub struct Chain {
    rules: Vec<FaultRule>,
    /// Requests each rule has matched so far, for `first`/`after`/`every`.
    matched: Vec<AtomicU64>,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl Chain {
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        let matched = rules.iter().map(|_| AtomicU64::new(0)).collect();
        Chain { rules, matched, seed, rng: Mutex::new(StdRng::seed_from_u64(seed)) }
    }

    /// Whether any rule matches on the request body (model, stream flag), so the runtime must
    /// read it before deciding.
    pub fn needs_body(&self) -> bool {
        self.rules.iter().any(|rule| rule.matcher.needs_body() || rule.action.needs_body())
    }

    /// Whether any rule matches on request headers (other than the key).
    pub fn needs_headers(&self) -> bool {
        self.rules.iter().any(|rule| rule.matcher.needs_headers())
    }

    /// A chain with no rules: every request passes.
    pub fn empty() -> Self {
        Chain::new(Vec::new(), 0)
    }

    /// Decides what happens to one request.
    pub fn decide(&self, request: &RequestView<'_>) -> ChainDecision {
        self.decide_as(request, None)
    }

    /// Decides what happens to one request; with `imposed`, exactly the rules it lists fire
    /// (a replay), the draws made all the same so that what a firing rule draws — a latency,
    /// say — comes out as it did.
    pub fn decide_as(&self, request: &RequestView<'_>, imposed: Option<&[usize]>) -> ChainDecision {
        let mut decision = ChainDecision::default();
        if self.rules.is_empty() {
            return decision;
        }
        let mut keyed;
        let mut shared;
        let rng: &mut StdRng = match request.draw_key {
            Some(key) => {
                keyed = StdRng::seed_from_u64(self.seed ^ key.wrapping_mul(0xD6E8_FEB8_6659_FD93));
                &mut keyed
            }
            None => {
                shared = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                &mut shared
            }
        };
        for (index, (rule, matched)) in self.rules.iter().zip(&self.matched).enumerate() {
            if !rule.matcher.matches(request) {
                continue;
            }
            let n = matched.fetch_add(1, Ordering::Relaxed) + 1;
            let probability = rule.dose.probability;
            let drawn = rule.dose.admits(n) && (probability >= 1.0 || rng.random::<f64>() < probability);
            if !imposed.map_or(drawn, |rules| rules.contains(&index)) {
                continue;
            }
            decision.rules.push(index);
            // Labels name what took effect: a limiter that admits adds none, and stream faults are
            // labelled by the runtime only when it applies them (an SSE answer).
            let decided = rule.action.on_request(request, rng);
            if !matches!(decided, Decision::Pass | Decision::Stream) {
                decision.fired.push(rule.action.label());
            }
            match decided {
                Decision::Pass => {}
                Decision::Delay(delay) => decision.delay += delay,
                Decision::Stream => decision.stream.push(rule.action.for_request(rng)),
                Decision::Throttle(rate) => {
                    decision.bandwidth = Some(decision.bandwidth.map_or(rate, |r| r.min(rate)))
                }
                Decision::Connection(fault) => {
                    decision.connection = Some(fault);
                    break;
                }
                Decision::Respond(response) => {
                    decision.response = Some(response);
                    break;
                }
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ApiFamily;
    use crate::{LatencyFault, StatusFault};

    const REQUEST: RequestView<'static> = RequestView {
        method: "POST",
        path: "/v1/chat/completions",
        model: None,
        stream: None,
        key: None,
        tokens: None,
        headers: None,
        draw_key: None,
    };

    fn status(probability: f64) -> FaultRule {
        let fault = StatusFault {
            status: 503,
            family: ApiFamily::OpenAi,
            retry_after: None,
            quota: false,
            should_retry: None,
        };
        FaultRule::new(FaultAction::Status(fault), probability)
    }

    fn latency(ms: u64) -> FaultRule {
        let fault = LatencyFault::fixed(Duration::from_millis(ms));
        FaultRule::new(FaultAction::Latency(fault), 1.0)
    }

    #[test]
    fn a_layer_on_top_decides_first_and_an_answer_there_ends_the_chain() {
        let top = Chain::new(vec![latency(5), status(1.0)], 1);
        let below = Chain::new(vec![latency(7)], 2);
        let decided = top.decide(&REQUEST).then(|| below.decide(&REQUEST));
        assert_eq!(decided.delay, Duration::from_millis(5), "the lower chain never counted");
        assert_eq!(decided.response.map(|r| r.status), Some(503));
        let delays = Chain::new(vec![latency(5)], 1).decide(&REQUEST).then(|| below.decide(&REQUEST));
        assert_eq!((delays.delay, delays.fired.len()), (Duration::from_millis(12), 2));
    }

    fn fired_pattern(chain: &Chain, n: usize) -> Vec<bool> {
        (0..n).map(|_| chain.decide(&REQUEST).response.is_some()).collect()
    }

    #[test]
    fn same_seed_same_decisions() {
        let a = fired_pattern(&Chain::new(vec![status(0.3)], 7), 200);
        let b = fired_pattern(&Chain::new(vec![status(0.3)], 7), 200);
        let c = fired_pattern(&Chain::new(vec![status(0.3)], 8), 200);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_keyed_attempt_gets_the_same_decision_whatever_came_before() {
        let keyed = |key| RequestView { draw_key: Some(key), ..REQUEST };
        let chain = Chain::new(vec![status(0.5)], 11);
        let first: Vec<bool> = (0..100).map(|k| chain.decide(&keyed(k)).response.is_some()).collect();
        let other = Chain::new(vec![status(0.5)], 11);
        for _ in 0..37 {
            other.decide(&REQUEST);
        }
        let reversed: Vec<bool> =
            (0..100).rev().map(|k| other.decide(&keyed(k)).response.is_some()).collect();
        assert_eq!(first, reversed.into_iter().rev().collect::<Vec<_>>());
        let fired = first.iter().filter(|f| **f).count();
        assert!((35..=65).contains(&fired), "{fired}");
    }

    #[test]
    fn an_imposed_decision_fires_exactly_the_rules_it_lists() {
        let keyed = |key| RequestView { draw_key: Some(key), ..REQUEST };
        let original = Chain::new(vec![latency(5), status(0.5)], 3);
        let recorded: Vec<Vec<usize>> = (0..50).map(|k| original.decide(&keyed(k)).rules).collect();
        assert!(recorded.iter().any(|rules| rules == &[0, 1]) && recorded.iter().any(|rules| rules == &[0]));
        // Another seed decides otherwise on its own, but replays the recorded rules when told to.
        let replayed = Chain::new(vec![latency(5), status(0.5)], 99);
        let own: Vec<Vec<usize>> = (0..50).map(|k| replayed.decide(&keyed(k)).rules).collect();
        assert_ne!(own, recorded);
        for (key, rules) in (0..50).zip(&recorded) {
            let decision = replayed.decide_as(&keyed(key), Some(rules));
            assert_eq!(&decision.rules, rules);
            assert_eq!(decision.response.is_some(), rules.contains(&1));
        }
    }

    #[test]
    fn probability_is_honoured_within_three_sigma_over_ten_thousand_requests() {
        let n = 10_000.0;
        let sigma = (0.3_f64 * 0.7 / n).sqrt();
        for seed in 0..5 {
            let fired = fired_pattern(&Chain::new(vec![status(0.3)], seed), 10_000);
            let share = fired.iter().filter(|f| **f).count() as f64 / n;
            assert!((share - 0.3).abs() < 3.0 * sigma, "seed {seed}: {share}");
        }
    }

    #[test]
    fn first_counts_only_requests_the_rule_matches() {
        use crate::{Dose, Matcher};
        let rule = FaultRule {
            matcher: Matcher { model: Some("gpt-4o".into()), ..Matcher::default() },
            dose: Dose { first: Some(2), ..Dose::default() },
            ..status(1.0)
        };
        let chain = Chain::new(vec![rule], 0);
        let ask = |model| chain.decide(&RequestView { model: Some(model), ..REQUEST }).response.is_some();
        let fired: Vec<bool> = ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini", "gpt-4o", "gpt-4o"].map(ask).to_vec();
        assert_eq!(fired, [false, true, false, true, false]);
        assert!(chain.needs_body());
    }

    #[test]
    fn delays_add_up_and_a_response_ends_the_chain() {
        let chain = Chain::new(vec![latency(100), latency(50), status(1.0), latency(1000)], 0);
        let decision = chain.decide(&REQUEST);
        assert_eq!(decision.delay, Duration::from_millis(150));
        assert_eq!(decision.response.unwrap().status, 503);
        assert_eq!(decision.fired, ["latency", "latency", "status:503"]);
    }

    #[test]
    fn an_empty_chain_passes() {
        assert!(Chain::empty().decide(&REQUEST).is_pass());
    }
}
