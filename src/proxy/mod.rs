//! The interposer: one listener per upstream, between the target and that upstream. It
//! forwards byte-exact unless the active phase's fault chain decides otherwise, and records
//! every attempt.
//!
//! The interposer follows a [`Timeline`] of chains, one per phase, choosing by the run clock
//! when a request arrives; [`InterposerHandle::set_timeline`] swaps it atomically (live
//! changes, emergency stop). A request in flight keeps the decision it already got.

pub mod chain;
pub mod fault;
mod forward;
pub mod timeline;

use std::{net::SocketAddr, sync::Arc};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Uri;
use http_body_util::{Either, Full};
use hyper::{body::Incoming, Request, Response};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use chain::{Chain, ChainDecision, FaultRule};
use fault::RequestView;
pub use timeline::{TimedChain, Timeline};

use crate::{
    metrics::{AttemptRecord, Recorder, RunClock},
    wire::{openai, ApiFamily},
};

/// The header that carries a logical request's correlation id through the target.
pub const CORRELATION_HEADER: &str = "x-chaos-request-id";

/// A response body: the upstream's stream, or one the interposer made.
pub type ProxyBody = Either<Incoming, Full<Bytes>>;

/// What an interposer needs to start.
#[derive(Debug, Clone)]
pub struct InterposerConfig {
    /// Index of the upstream in the plan, for records.
    pub upstream: usize,
    /// Where to forward, e.g. `http://127.0.0.1:41234`.
    pub upstream_uri: Uri,
    pub family: ApiFamily,
    pub clock: RunClock,
    pub recorder: Recorder,
}

struct Context {
    config: InterposerConfig,
    client: forward::UpstreamClient,
    timeline: ArcSwap<Timeline>,
}

/// A running interposer.
pub struct InterposerHandle {
    pub addr: SocketAddr,
    context: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
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

    /// Stops accepting and waits for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts an interposer on `listener` with no faults.
pub fn spawn(listener: TcpListener, config: InterposerConfig) -> std::io::Result<InterposerHandle> {
    let addr = listener.local_addr()?;
    let context = Arc::new(Context {
        config,
        client: forward::upstream_client(),
        timeline: ArcSwap::from_pointee(Timeline::new(Vec::new())),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = Arc::clone(&context);
    let task = tokio::spawn(crate::net::serve(
        listener,
        move |request| handle(Arc::clone(&serving), request),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(InterposerHandle { addr, context, stop: Some(stop), task })
}

async fn handle(context: Arc<Context>, request: Request<Incoming>) -> Response<ProxyBody> {
    let config = &context.config;
    let at = config.clock.elapsed();
    let timeline = context.timeline.load_full();
    let active = timeline.at(at);
    let logical_id = request
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let view = RequestView { method: request.method().as_str(), path: request.uri().path(), model: None };
    let decision = active.map(|entry| entry.chain.decide(&view)).unwrap_or_default();
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let injected = decision.response.is_some();
    let (status, response) = match decision.response {
        Some(canned) => (Some(canned.status), canned.into_response().map(Either::Right)),
        None => match forward::forward(&context.client, &config.upstream_uri, request).await {
            Ok(response) => (Some(response.status().as_u16()), response.map(Either::Left)),
            Err(error) => {
                tracing::debug!(%error, upstream = config.upstream, "upstream unreachable");
                (None, openai::server_error(502).into_response().map(Either::Right))
            }
        },
    };
    config.recorder.attempt(AttemptRecord {
        upstream: config.upstream,
        phase: active.map_or(0, |entry| entry.phase),
        logical_id,
        at,
        status,
        injected,
        faults: decision.fired,
    });
    response
}
