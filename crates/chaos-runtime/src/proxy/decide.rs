//! Deciding what happens to one request, before anything is forwarded: the chains in force
//! when it came, the fields its draws and matches need, the decision, and its attempt record
//! begun. Both ways a request is served (hyper's, and the byte-level path of
//! [`super::front`]) decide here, once per request: draws and `first`/`every` counts must not be
//! made twice.

use std::{sync::Arc, time::Duration};

use http::{HeaderMap, HeaderName, Method, Uri};
use tokio::time::Instant;

use super::{
    attempt, draw_key, header_number, key_id, timeline::TimedChain, BodyFields, Context, Timeline,
    CALL_HEADER, CORRELATION_HEADER,
};
use crate::fault::{Chain, ChainDecision, RequestView};
use attempt::AttemptGuard;

/// The request headers a decision reads when no rule matches on headers: the API key's
/// ([`crate::wire::KEY_HEADERS`]), the correlation id and the call of an agent's task.
pub static DECIDING_HEADERS: std::sync::LazyLock<Vec<HeaderName>> = std::sync::LazyLock::new(|| {
    let ids = [CORRELATION, CALL];
    crate::wire::KEY_HEADERS.into_iter().chain(ids).collect()
});

/// The correlation id's header and the call's, as names: looking one up parses no string.
const CORRELATION: HeaderName = HeaderName::from_static(CORRELATION_HEADER);
const CALL: HeaderName = HeaderName::from_static(CALL_HEADER);

/// The chains in force when a request came, and when that was on the run clock.
pub struct Chains {
    pub at: Duration,
    timeline: Arc<Timeline>,
    live: Arc<Chain>,
}

impl Chains {
    /// The chains in force now.
    pub fn now(context: &Context) -> Self {
        Chains {
            at: context.config.clock.elapsed(),
            timeline: context.timeline.load_full(),
            live: context.live.chain.load_full(),
        }
    }

    fn active(&self) -> Option<&TimedChain> {
        self.timeline.at(self.at)
    }

    /// The phase the request counts in.
    pub fn phase(&self) -> usize {
        self.active().map_or(0, |entry| entry.phase)
    }

    /// Which of a request's headers deciding reads: all of them when a rule in force matches on
    /// headers, else only [`DECIDING_HEADERS`] (the key and the correlation id).
    pub fn headers_read(&self) -> Option<&'static [HeaderName]> {
        (!self.any_chain(Chain::needs_headers)).then_some(&DECIDING_HEADERS[..])
    }

    /// Whether a request with this method must have its body read before deciding. A POST body is
    /// always read: for the model and prompt size that bill the attempt, for the correlation tag
    /// when a gateway dropped the header (`user` / `metadata.user_id`), and for faults that match
    /// on it. Other requests stream through unless a fault needs their body.
    pub fn read_body(&self, method: &Method) -> bool {
        method == Method::POST || self.any_chain(Chain::needs_body)
    }

    /// Whether `asks` holds of the live chain or of the phase's.
    fn any_chain(&self, asks: impl Fn(&Chain) -> bool) -> bool {
        asks(&self.live) || self.active().is_some_and(|entry| asks(&entry.chain))
    }
}

/// A request's decision, and its attempt record so far.
pub struct Decided {
    /// When it came, as an instant: answer timings count from here.
    pub arrived: Instant,
    pub decision: ChainDecision,
    pub guard: AttemptGuard,
    pub prompt_tokens: Option<u64>,
}

/// The parts of a request a decision reads.
pub struct Asked<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub fields: BodyFields,
}

/// The record of a request whose head came under `chains` but not the rest: cancelled until
/// told otherwise (the target hung up, or the body is over the limit).
pub fn unread(context: &Context, chains: &Chains, headers: &HeaderMap) -> AttemptGuard {
    let header_id = header_number(headers, &CORRELATION);
    attempt(&context.config, chains.phase(), header_id, chains.at, Vec::new())
}

/// The key a request presents in its family's way (Bedrock's SigV4 access key id), for faults
/// that match on keys; never kept.
fn presented_key(family: crate::wire::ApiFamily, headers: &http::HeaderMap) -> Option<&str> {
    match family {
        crate::wire::ApiFamily::Bedrock => crate::wire::bedrock::presented_key(headers),
        _ => crate::wire::presented_key(headers),
    }
}

/// Decides what happens to `asked`, which came under `chains`.
pub fn decide(context: &Context, chains: &Chains, asked: Asked<'_>) -> Decided {
    let config = &context.config;
    let Asked { method, uri, headers, fields } = asked;
    let fields = fields.named_by(uri.path());
    let active = chains.active();
    let logical_id = header_number(headers, &CORRELATION).or(fields.correlation);
    let attempt_number = logical_id.map(|id| context.attempts.next(id));
    let key = draw_key(logical_id, attempt_number);
    let view = RequestView {
        method: method.as_str(),
        path: uri.path(),
        model: fields.model.as_deref(),
        stream: fields.stream,
        key: key_id(presented_key(config.family, headers), &config.keys),
        tokens: fields.tokens,
        headers: Some(headers),
        draw_key: key,
    };
    // The journal keeps (and a replay imposes) the phase chain's decision; live faults added by
    // the control API are a layer of their own, decided first.
    let mut phase_rules = Vec::new();
    let mut decision = chains.live.decide(&view).then(|| {
        let decided = active
            .map(|entry| {
                let imposed = config
                    .replay
                    .as_ref()
                    .map(|replay| replay.imposed(config.upstream_index, entry.phase, key));
                entry.chain.decide_as(&view, imposed.flatten().as_deref())
            })
            .unwrap_or_default();
        phase_rules.clone_from(&decided.rules);
        decided
    });
    let fired = std::mem::take(&mut decision.fired);
    let mut guard = attempt(config, chains.phase(), logical_id, chains.at, fired);
    guard.decided(key, phase_rules);
    guard.of_call(header_number(headers, &CALL).and_then(|call| u32::try_from(call).ok()));
    guard.identify(
        view.key.filter(|k| *k < config.keys.len()).map(|k| format!("key-{k}")),
        fields.model,
        method == Method::POST,
    );
    Decided { arrived: config.clock.at(chains.at), decision, guard, prompt_tokens: fields.prompt_tokens }
}
