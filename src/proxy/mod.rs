//! The interposer: one listener per upstream, between the target and that upstream. It
//! forwards byte-exact unless the fault chain in force decides otherwise, and records every
//! attempt (even one the target gives up on).
//!
//! The interposer follows a [`Timeline`] of chains, one per phase, choosing by the run clock
//! when a request arrives; [`InterposerHandle::set_timeline`] swaps it atomically (live
//! changes, emergency stop). A request in flight keeps the decision it already got. Over the
//! timeline lies a [`LiveLayer`]: faults added while the run goes on, decided first.
//!
//! Each connection from the target forwards over upstream connections of its own
//! ([`upstream::UpstreamLink`]). Standalone (`chaos proxy`) the interposer is served by shards
//! ([`spawn_sharded`]), sharing the context above.

mod attempt;
mod forward;
mod meter;
mod recorded;
mod request;
pub mod timeline;
pub mod tls;
mod upstream;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Uri;
use http_body_util::{Either, Full};
use hyper::{body::Incoming, Request, Response};
use tokio::net::TcpListener;

pub use timeline::{TimedChain, Timeline};

use crate::{
    fault::{Chain, FaultAction, RequestView},
    metrics::{replay::Replay, AttemptOutcome, AttemptRecord, Recorder, RunClock},
    net::{Abort, FaultyStream, Throttled},
    wire::{self, anthropic, openai, ApiFamily, CannedResponse},
};
use attempt::AttemptGuard;
use meter::UsageMeter;
use recorded::RecordedBody;
pub use request::BodyFields;
use request::{draw_key, header_number, key_id, AttemptCounter};

/// The header that carries a logical request's correlation id through the target.
pub const CORRELATION_HEADER: &str = "x-chaos-request-id";
/// The header the official SDKs (and the built-in client) number their retries with.
pub const RETRY_COUNT_HEADER: &str = "x-stainless-retry-count";

/// A response body: the upstream's (untouched, or with stream faults applied), or one the
/// interposer made — carrying the attempt's record until it ends.
pub type ProxyBody = RecordedBody<Throttled<Either<Either<Incoming, FaultyStream<Incoming>>, Full<Bytes>>>>;

/// What an interposer needs to start.
#[derive(Debug, Clone)]
pub struct InterposerConfig {
    /// Index of the upstream in the plan, for records.
    pub upstream_index: usize,
    /// Where to forward, e.g. `http://127.0.0.1:41234`.
    pub upstream_uri: Uri,
    pub family: ApiFamily,
    /// The upstream's API keys, when known, so faults can match on a key's index.
    pub keys: Vec<String>,
    pub clock: RunClock,
    pub recorder: Recorder,
    /// Fault decisions of an earlier run to impose (`--replay`).
    pub replay: Option<Arc<Replay>>,
    /// Whom to trust when the upstream is `https://`.
    pub tls: tls::UpstreamTls,
}

/// What every connection of one interposer shares, whichever shard serves it.
struct Context {
    config: InterposerConfig,
    timeline: ArcSwap<Timeline>,
    /// Faults added while the run goes on (the control API): decided before the timeline's.
    live: LiveLayer,
    /// Numbers attempts per correlation id for their fault draws, counted here because gateways
    /// that retry on their own do not number their retries.
    attempts: AttemptCounter,
    /// Opens the upstream connections of every connection from the target.
    connector: upstream::Connector,
}

/// A running interposer.
pub struct InterposerHandle {
    pub addr: SocketAddr,
    context: Arc<Context>,
    server: crate::net::ServerHandle,
}

impl InterposerHandle {
    /// Replaces the whole timeline; requests already decided are unaffected.
    pub fn set_timeline(&self, timeline: Timeline) {
        self.context.timeline.store(Arc::new(timeline));
    }

    /// Applies one chain from now on, labelled as `phase`.
    pub fn set_chain(&self, phase: usize, chain: Chain) {
        self.set_timeline(Timeline::constant(phase, chain));
    }

    /// The layer of live faults over this interposer's timeline, to change from elsewhere.
    pub fn live_layer(&self) -> LiveLayer {
        self.context.live.clone()
    }

    /// Goes dark — connections refused, open ones reset — or comes back (zone loss, `refuse`).
    pub fn set_refusing(&self, refusing: bool) {
        self.server.set_refusing(refusing);
    }

    /// Stops accepting, lets open requests finish within a bound, and records the rest as
    /// cancelled.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// A chain of faults applied on top of an interposer's timeline until replaced; cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveLayer {
    chain: Arc<ArcSwap<Chain>>,
}

impl Default for LiveLayer {
    fn default() -> Self {
        LiveLayer { chain: Arc::new(ArcSwap::from_pointee(Chain::empty())) }
    }
}

impl LiveLayer {
    /// Replaces the layer; requests already decided are unaffected.
    pub fn set(&self, chain: Chain) {
        self.chain.store(Arc::new(chain));
    }
}

/// What one connection from the target is served with: the shared context and upstream
/// connections of its own, opened on the thread that serves it.
struct Connection {
    context: Arc<Context>,
    upstream: upstream::UpstreamLink,
}

impl Context {
    fn new(config: InterposerConfig) -> Arc<Self> {
        Arc::new(Context {
            connector: upstream::connector(&config.tls),
            config,
            timeline: ArcSwap::from_pointee(Timeline::new(Vec::new())),
            live: LiveLayer::default(),
            attempts: Default::default(),
        })
    }

    /// What a new connection from the target is served with.
    fn connection(self: &Arc<Self>) -> Arc<Connection> {
        let upstream = upstream::UpstreamLink::new(self.connector.clone(), self.config.upstream_uri.clone());
        Arc::new(Connection { context: Arc::clone(self), upstream })
    }
}

/// Starts an interposer on `listener` (on the caller's runtime) with no faults.
pub fn spawn(listener: TcpListener, config: InterposerConfig) -> std::io::Result<InterposerHandle> {
    let context = Context::new(config);
    let connections = Arc::clone(&context);
    let server = crate::net::spawn_per_connection(listener, move || {
        let connection = connections.connection();
        move |request| handle(Arc::clone(&connection), request)
    })?;
    Ok(InterposerHandle { addr: server.addr, context, server })
}

/// Starts an interposer on `addr` with no faults, served by `threads` shards (a current-thread
/// runtime each, see [`crate::net::spawn_sharded`]); records and faults are shared by all.
pub fn spawn_sharded(
    addr: SocketAddr,
    threads: usize,
    config: InterposerConfig,
) -> std::io::Result<InterposerHandle> {
    let context = Context::new(config);
    let server = crate::net::spawn_sharded_per_connection(addr, threads, |_| {
        let connections = Arc::clone(&context);
        move || {
            let connection = connections.connection();
            move |request| handle(Arc::clone(&connection), request)
        }
    })?;
    Ok(InterposerHandle { addr: server.addr, context, server })
}

/// Stream faults only touch SSE responses; a JSON answer passes untouched.
pub fn is_event_stream(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
}

/// The 502 the interposer sends when its upstream cannot be reached.
fn unreachable(family: ApiFamily) -> CannedResponse {
    let message = "chaos interposer: the upstream could not be reached";
    match family {
        ApiFamily::OpenAi => openai::error(502, message, "server_error", None, Some("upstream_unreachable")),
        ApiFamily::Anthropic => anthropic::error(502, "api_error", message),
    }
}

/// A new attempt record, written when the returned guard goes.
fn attempt(
    config: &InterposerConfig,
    phase: usize,
    logical_id: Option<u64>,
    at: Duration,
    faults: Vec<String>,
) -> AttemptGuard {
    AttemptGuard::new(
        AttemptRecord::arrived(config.upstream_index, phase, logical_id, at, faults),
        config.recorder.clone(),
    )
}

async fn handle(
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Abort> {
    let context = &*connection.context;
    let config = &context.config;
    let at = config.clock.elapsed();
    // Answer timings count from here, so `at` plus any of them is an instant on the run clock.
    let arrived = config.clock.at(at);
    let timeline = context.timeline.load_full();
    let active = timeline.at(at);
    let live = context.live.chain.load_full();
    let (parts, body) = request.into_parts();
    let header_id = header_number(&parts.headers, CORRELATION_HEADER);
    // A POST body is read whole: for the model and prompt size that bill the attempt, for the
    // correlation tag when a gateway dropped the header (`user` / `metadata.user_id`), and for
    // faults that match on it. Other requests stream through unless a fault needs their body.
    let read_body = parts.method == http::Method::POST
        || live.needs_body()
        || active.is_some_and(|entry| entry.chain.needs_body());
    let (body, fields) = if read_body {
        match crate::net::read_body(body).await {
            Ok(bytes) => (Either::Right(Full::new(bytes.clone())), BodyFields::read(&bytes)),
            Err(error) => {
                let mut guard = attempt(config, active.map_or(0, |e| e.phase), header_id, at, Vec::new());
                if !error.is::<http_body_util::LengthLimitError>() {
                    // The target hung up (or broke the framing) before its request was whole: there is
                    // no one to answer, and the record says cancelled.
                    return Err(Abort::Close);
                }
                guard.answered(AttemptOutcome::Status(413), false);
                let response = wire::too_large(config.family).into_response().map(Either::Right);
                return Ok(
                    response.map(|body| RecordedBody::new(Throttled::new(body, None), guard, arrived, false))
                );
            }
        }
    } else {
        (Either::Left(body), BodyFields::default())
    };
    let logical_id = header_id.or(fields.correlation);
    let attempt_number = logical_id.map(|id| context.attempts.next(id));
    let key = draw_key(logical_id, attempt_number);
    let view = RequestView {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        model: fields.model.as_deref(),
        stream: fields.stream,
        key: key_id(wire::presented_key(&parts.headers), &config.keys),
        tokens: fields.tokens,
        headers: Some(&parts.headers),
        draw_key: key,
    };
    // The journal keeps (and a replay imposes) the phase chain's decision; live faults added by
    // the control API are a layer of their own, decided first.
    let mut phase_rules = Vec::new();
    let decision = live.decide(&view).then(|| {
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
    let mut guard = attempt(config, active.map_or(0, |entry| entry.phase), logical_id, at, decision.fired);
    guard.decided(key, phase_rules);
    guard.identify(
        view.key.filter(|k| *k < config.keys.len()).map(|k| format!("key-{k}")),
        fields.model.clone(),
        parts.method == http::Method::POST,
    );
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some(fault) = decision.connection {
        // Marked first: a hang may never return, and the record must still say what happened.
        guard.answered(AttemptOutcome::Aborted, true);
        return Err(crate::net::enact(fault).await);
    }
    let (response, event_stream, meter) = match decision.response {
        Some(canned) => {
            guard.answered(AttemptOutcome::Status(canned.status), true);
            (canned.into_response().map(Either::Right), false, None)
        }
        None => {
            guard.forwarding(fields.prompt_tokens);
            match forward::forward(&connection.upstream, Request::from_parts(parts, body)).await {
                Ok(mut response) => {
                    guard.answered(AttemptOutcome::Status(response.status().as_u16()), false);
                    let event_stream = is_event_stream(response.headers());
                    let meter = response
                        .status()
                        .is_success()
                        .then(|| UsageMeter::new(config.family, event_stream, fields.prompt_tokens));
                    let stream_faults = decision.stream;
                    let rewrite = event_stream && !stream_faults.is_empty();
                    if rewrite {
                        // The faults change the body's length: let hyper frame it (chunked).
                        response.headers_mut().remove(http::header::CONTENT_LENGTH);
                        guard.fired(stream_faults.iter().map(FaultAction::label));
                    }
                    let response = response.map(|body| match rewrite {
                        true => Either::Left(Either::Right(FaultyStream::new(body, stream_faults))),
                        false => Either::Left(Either::Left(body)),
                    });
                    (response, event_stream, meter)
                }
                Err(error) => {
                    tracing::debug!(%error, upstream = config.upstream_index, "upstream unreachable");
                    guard.answered(AttemptOutcome::Unreachable, false);
                    (unreachable(config.family).into_response().map(Either::Right), false, None)
                }
            }
        }
    };
    guard.asked(wire::retry_after::server_wait(response.headers(), std::time::SystemTime::now()));
    guard.head(arrived.elapsed());
    let bandwidth = decision.bandwidth;
    Ok(response.map(|body| {
        let recorded = RecordedBody::new(Throttled::new(body, bandwidth), guard, arrived, event_stream);
        match meter {
            Some(meter) => recorded.metered(meter),
            None => recorded,
        }
    }))
}
