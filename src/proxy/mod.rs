//! The interposer: one listener per upstream, between the target and that upstream. It
//! forwards byte-exact unless the active phase's fault chain decides otherwise, and records
//! every attempt.
//!
//! Phase changes swap the chain atomically ([`InterposerHandle::set_chain`]); a request in
//! flight keeps the decision it already got.

pub mod chain;
pub mod fault;
mod forward;

use std::{net::SocketAddr, sync::Arc};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Uri;
use http_body_util::{Either, Full};
use hyper::{body::Incoming, Request, Response};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use chain::{Chain, ChainDecision, FaultRule};
use fault::RequestView;

use crate::{
    metrics::{AttemptRecord, Recorder, RunClock},
    wire::{openai, ApiFamily},
};

/// The header that carries a logical request's correlation id through the target.
pub const CORRELATION_HEADER: &str = "x-chaos-request-id";

/// A response body: the upstream's stream, or one the interposer made.
pub type ProxyBody = Either<Incoming, Full<Bytes>>;

/// The chain in force and the phase it belongs to.
#[derive(Debug)]
pub struct ActiveChain {
    pub phase: usize,
    pub chain: Chain,
}

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
    active: ArcSwap<ActiveChain>,
}

/// A running interposer.
pub struct InterposerHandle {
    pub addr: SocketAddr,
    context: Arc<Context>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl InterposerHandle {
    /// Replaces the chain; requests already decided are unaffected.
    pub fn set_chain(&self, phase: usize, chain: Chain) {
        self.context.active.store(Arc::new(ActiveChain { phase, chain }));
    }

    /// Stops accepting and waits for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts an interposer on `listener` with an empty chain.
pub fn spawn(listener: TcpListener, config: InterposerConfig) -> std::io::Result<InterposerHandle> {
    let addr = listener.local_addr()?;
    let context = Arc::new(Context {
        config,
        client: forward::upstream_client(),
        active: ArcSwap::from_pointee(ActiveChain { phase: 0, chain: Chain::empty() }),
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
    let active = context.active.load_full();
    let logical_id = request
        .headers()
        .get(CORRELATION_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let view = RequestView { method: request.method().as_str(), path: request.uri().path(), model: None };
    let decision = active.chain.decide(&view);
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
        phase: active.phase,
        logical_id,
        at,
        status,
        injected,
        faults: decision.fired,
    });
    response
}
