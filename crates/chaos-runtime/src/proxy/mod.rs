//! The interposer: one listener per upstream, between the target and that upstream. It
//! forwards byte-exact unless the fault chain in force decides otherwise, and records every
//! attempt (even one the target gives up on).
//!
//! The interposer follows a [`Timeline`] of chains, one per phase, choosing by the run clock
//! when a request arrives; [`InterposerHandle::set_timeline`] swaps it atomically (live
//! changes, emergency stop). A request in flight keeps the decision it already got. Over the
//! timeline lies a [`LiveLayer`]: faults added while the run goes on, decided first.
//!
//! A connection from the target is served first by the byte-level path ([`front`]): every
//! HTTP/1.1 request is forwarded and answered as bytes, over an upstream connection of its own,
//! its faults carried out there. The first request it leaves to hyper (outside its subset, or a
//! `bandwidth` fault) takes the connection to hyper's path, which forwards over upstream
//! connections of its own too ([`upstream::UpstreamLink`]) and carries out a decision in
//! [`respond`]. Both decide in [`decide`], once per
//! request. Standalone (`chaos proxy`) the interposer is served by shards ([`spawn_sharded`]),
//! sharing the context above.

mod attempt;
pub mod bare_relay;
pub mod credential;
mod decide;
mod forward;
mod front;
mod input_tokens;
mod meter;
mod recorded;
mod request;
pub mod timeline;
pub mod tls;
mod upstream;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Uri;
use http_body_util::{Either, Full};
use hyper::{body::Incoming, Request, Response};
use tokio::net::TcpListener;

pub use timeline::{TimedChain, Timeline};

use crate::{
    fault::{Chain, FaultAction},
    metrics::{replay::Replay, AttemptOutcome, AttemptRecord, Recorder, RunClock},
    net::{Abort, FaultyStream, Throttled},
    wire::{self, anthropic, openai, stream_split, ApiFamily, CannedResponse},
};
use attempt::AttemptGuard;
use decide::{decide, Asked, Chains, Decided};
use recorded::{AnswerWatch, RecordedBody};
pub use request::BodyFields;
use request::{draw_key, header_number, key_id, AttemptCounter};

/// The header that carries a logical request's correlation id through the target.
pub const CORRELATION_HEADER: &str = "x-chaos-request-id";
/// The header naming which call of an agent's task an attempt belongs to (from 0).
pub const CALL_HEADER: &str = "x-chaos-call";
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
    /// The key presented upstream in place of the target's (a `url` upstream's `key_env`);
    /// `None`: the target's own passes through.
    pub upstream_key: Option<credential::UpstreamKey>,
    /// How long the target's connections may keep the interposer waiting, and how many it holds.
    pub connections: crate::net::ConnectionLimits,
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

    /// What the limits on the target's connections did so far (shed, timed out).
    pub fn connection_counts(&self) -> crate::net::ConnectionCounts {
        self.server.connection_counts()
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
    /// The decision the byte-level path ([`front`]) made for the request it handed to hyper
    /// with the connection: hyper's path carries it out rather than deciding again.
    handed_over: Mutex<Option<Decided>>,
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

    /// What a new connection from the target is served with: the byte-level path first (for a
    /// plain-HTTP upstream), and hyper's handler for what it hands over.
    fn connection(
        self: &Arc<Self>,
    ) -> (Option<crate::net::Front>, impl Fn(Request<Incoming>) -> HandleFuture + Send + Sync + 'static) {
        let upstream = upstream::UpstreamLink::new(self.connector.clone(), self.config.upstream_uri.clone());
        let connection =
            Arc::new(Connection { context: Arc::clone(self), upstream, handed_over: Mutex::new(None) });
        let front = front::front(Arc::clone(&connection));
        (front, move |request| handle(Arc::clone(&connection), request))
    }
}

/// Starts an interposer on `listener` (on the caller's runtime) with no faults.
pub fn spawn(listener: TcpListener, config: InterposerConfig) -> std::io::Result<InterposerHandle> {
    let limits = config.connections;
    let context = Context::new(config);
    let connections = Arc::clone(&context);
    let server = crate::net::spawn_per_connection(listener, limits, move || connections.connection())?;
    Ok(InterposerHandle { addr: server.addr, context, server })
}

/// Starts an interposer on `addr` with no faults, served by `threads` shards (a current-thread
/// runtime each, see [`crate::net::spawn_sharded`]); records and faults are shared by all.
pub fn spawn_sharded(
    addr: SocketAddr,
    threads: usize,
    config: InterposerConfig,
) -> std::io::Result<InterposerHandle> {
    let limits = config.connections;
    let context = Context::new(config);
    let server = crate::net::spawn_sharded_per_connection(addr, threads, limits, |_| {
        let connections = Arc::clone(&context);
        move || connections.connection()
    })?;
    Ok(InterposerHandle { addr: server.addr, context, server })
}

/// Stream faults only touch event streams (SSE, or Bedrock's AWS event stream); a JSON answer
/// passes untouched.
pub fn is_event_stream(headers: &http::HeaderMap) -> bool {
    stream_split::is_event_stream(stream_split::content_type(headers))
}

/// The 502 the interposer sends when its upstream cannot be reached.
fn unreachable(family: ApiFamily) -> CannedResponse {
    let message = "chaos interposer: the upstream could not be reached";
    match family {
        ApiFamily::OpenAi => openai::error(502, message, "server_error", None, Some("upstream_unreachable")),
        ApiFamily::Azure => wire::azure::error(502, "BadGateway", message),
        ApiFamily::Gemini => wire::gemini::error(502, message),
        ApiFamily::Anthropic => anthropic::error(502, "api_error", message),
        ApiFamily::Bedrock => wire::bedrock::error(502, "InternalServerException", message),
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

/// What hyper's path gives for one request.
type HandleFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<ProxyBody>, Abort>> + Send>>;

fn handle(connection: Arc<Connection>, request: Request<Incoming>) -> HandleFuture {
    Box::pin(handle_request(connection, request))
}

async fn handle_request(
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Abort> {
    let (parts, body) = request.into_parts();
    // A request the byte-level path handed over with the connection was decided there.
    let handed_over = connection.handed_over.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(decided) = handed_over {
        return respond(&connection, decided, parts, Either::Left(body)).await;
    }
    let context = &*connection.context;
    let config = &context.config;
    let chains = Chains::now(context);
    let (body, fields) = if chains.read_body(&parts.method) {
        match crate::net::read_body(body).await {
            Ok(bytes) => (Either::Right(Full::new(bytes.clone())), BodyFields::read(&bytes)),
            Err(error) => {
                let mut guard = decide::unread(context, &chains, &parts.headers);
                let refusal = if error.is::<http_body_util::LengthLimitError>() {
                    wire::too_large(config.family)
                } else if crate::net::is_broken_framing(&*error) {
                    // As the provider would: the body cannot be read, a 400 (and hyper closes).
                    wire::malformed_body(config.family)
                } else {
                    // The target hung up before its request was whole: there is no one to answer,
                    // and the record says cancelled.
                    return Err(Abort::Close);
                };
                guard.answered(AttemptOutcome::Status(refusal.status), false);
                let response = refusal.into_response().map(Either::Right);
                let arrived = config.clock.at(chains.at);
                return Ok(
                    response.map(|body| RecordedBody::new(Throttled::new(body, None), guard, arrived, false))
                );
            }
        }
    } else {
        (Either::Left(body), BodyFields::default())
    };
    let asked = Asked { method: &parts.method, uri: &parts.uri, headers: &parts.headers, fields };
    let decided = decide(context, &chains, asked);
    respond(&connection, decided, parts, body).await
}

/// Carries out a decision: waits, ends the connection, answers in the upstream's place, or
/// forwards (with stream faults on the answer).
async fn respond(
    connection: &Connection,
    decided: Decided,
    parts: http::request::Parts,
    body: forward::ForwardBody,
) -> Result<Response<ProxyBody>, Abort> {
    let config = &connection.context.config;
    let mut parts = parts;
    if let Some(key) = &config.upstream_key {
        key.present(&mut parts.headers);
    }
    let Decided { arrived, decision, mut guard, prompt_tokens, .. } = decided;
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some(fault) = decision.connection {
        // Marked first: a hang may never return, and the record must still say what happened.
        guard.answered(AttemptOutcome::Aborted, true);
        return Err(crate::net::enact(fault).await);
    }
    let (response, watch) = match decision.response {
        Some(canned) => {
            guard.answered(AttemptOutcome::Status(canned.status), true);
            let response = canned.into_response().map(Either::Right);
            let watch = AnswerWatch::head_going_back(guard, arrived, response.headers(), false);
            (response, watch)
        }
        None => {
            guard.forwarding(prompt_tokens);
            match forward::forward(&connection.upstream, Request::from_parts(parts, body)).await {
                Ok(mut response) => {
                    let stream_faults = decision.stream;
                    let rewrite = is_event_stream(response.headers()) && !stream_faults.is_empty();
                    if rewrite {
                        // The faults change the body's length: let hyper frame it (chunked).
                        response.headers_mut().remove(http::header::CONTENT_LENGTH);
                        guard.fired(stream_faults.iter().map(FaultAction::label));
                    }
                    let answer = (response.status(), response.headers());
                    let content_type = stream_split::content_type(answer.1).to_owned();
                    let watch =
                        AnswerWatch::upstream_answer(guard, arrived, answer, config.family, prompt_tokens);
                    let response = response.map(|body| match rewrite {
                        true => Either::Left(Either::Right(
                            FaultyStream::new(body, stream_faults).framed_as(&content_type),
                        )),
                        false => Either::Left(Either::Left(body)),
                    });
                    (response, watch)
                }
                Err(error) => {
                    tracing::debug!(%error, upstream = config.upstream_index, "upstream unreachable");
                    guard.answered(AttemptOutcome::Unreachable, false);
                    let response = unreachable(config.family).into_response().map(Either::Right);
                    let watch = AnswerWatch::head_going_back(guard, arrived, response.headers(), false);
                    (response, watch)
                }
            }
        }
    };
    let bandwidth = decision.bandwidth;
    Ok(response.map(|body| RecordedBody::watched(Throttled::new(body, bandwidth), watch)))
}
