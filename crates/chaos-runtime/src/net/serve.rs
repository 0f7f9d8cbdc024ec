//! The one accept loop: serves HTTP/1.1 (keep-alive) and HTTP/2 (h2c) on a listener until
//! `shutdown` resolves, lets open connections finish within a bound, then stops the rest, so
//! whatever they held (an attempt record's drop guard) is settled before the caller reads
//! results.
//!
//! A connection may be served by a [`Front`] first: a byte-level path that serves what it can
//! straight off the socket and hands the connection (with the bytes it read and did not serve)
//! to hyper when it meets something it leaves to hyper.
//!
//! A [`ServerHandle`] drives one such loop ([`spawn`]) or several on one address
//! ([`super::shards`]): one stop signal, one dark switch and one [`ConnectionLimits`] reach them
//! all. Over the cap on open connections a new one is shed ([`super::shed`]); while the server
//! waits for a client's request the header and idle timeouts run ([`super::watchdog`]); a
//! failing accept backs off ([`super::accept_backoff`]).

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use super::{
    abortable::{Abort, AbortableStream},
    accept_backoff::AcceptBackoff,
    in_flight::InFlightBody,
    limits::{ConnectionCounts, ConnectionGate, ConnectionLimits},
    rewind::Rewind,
    shed::shed,
    watchdog::Watchdog,
};
use bytes::Bytes;
use hyper::{body::Incoming, service::service_fn, Request, Response};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::graceful::GracefulShutdown,
};
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinSet,
};

/// How long open connections get to finish after shutdown starts. Short: the runner drains
/// the load before it stops servers, so what is left is abandoned anyway.
const DRAIN_BOUND: Duration = Duration::from_secs(1);

/// Serves an accepted connection's requests straight off its socket for as long as it can; then
/// hands back the stream and the bytes it read but did not serve, for hyper to carry on from, or
/// `None` when the connection is over. The receiver turns true when the server starts draining:
/// a front closes its connection when idle from then on.
pub type Front = Box<
    dyn FnOnce(
            AbortableStream,
            watch::Receiver<bool>,
        ) -> std::pin::Pin<Box<dyn Future<Output = Option<(AbortableStream, Bytes)>> + Send>>
        + Send,
>;

/// Serves every connection accepted from `listener` with a handler of its own, made by
/// `connection_handler` (so it may hold what belongs to that connection alone, like an
/// interposer's upstream connections) with, optionally, a [`Front`] that serves it first,
/// until `shutdown` resolves, within the limits of `gate`. A handler that returns an
/// [`Abort`] ends its connection without answering. While `refuse` is
/// true the server is dark: it stops listening (connections are refused) and resets every open
/// connection; when it turns false it listens on the same address again.
pub async fn serve<M, H, F, B>(
    listener: TcpListener,
    connection_handler: M,
    gate: Arc<ConnectionGate>,
    shutdown: impl Future<Output = ()>,
    mut refuse: watch::Receiver<bool>,
) where
    M: Fn() -> (Option<Front>, H),
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut backoff = AcceptBackoff::default();
    let draining = watch::channel(false).0;
    let mut connections = JoinSet::new();
    let mut resets: Vec<Arc<AtomicBool>> = Vec::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let addr = listener.local_addr().ok();
    let shared = super::shards::is_shared(&listener);
    let mut listener = Some(listener);
    let mut switch_open = true;
    loop {
        let Some(active) = listener.as_ref() else {
            // Dark: wait to be switched back on, then listen on the same address again.
            tokio::select! {
                changed = refuse.changed(), if switch_open => {
                    switch_open = changed.is_ok();
                    if !switch_open || !*refuse.borrow() {
                        listener = relisten(addr, shared).await;
                    }
                }
                () = &mut shutdown => break,
            }
            continue;
        };
        let (stream, _) = tokio::select! {
            accepted = active.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    backoff.failed(&error).await;
                    continue;
                }
            },
            changed = refuse.changed(), if switch_open => {
                switch_open = changed.is_ok();
                if switch_open && *refuse.borrow() {
                    listener = None;
                    for reset in resets.drain(..) {
                        reset.store(true, Ordering::Relaxed);
                    }
                    connections.shutdown().await;
                }
                continue;
            }
            () = &mut shutdown => break,
        };
        backoff.accepted();
        let Some(slot) = gate.admit() else {
            shed(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let watchdog = Watchdog::new(Arc::clone(&gate));
        let (stream, reset) = AbortableStream::new(stream, Arc::clone(&watchdog));
        resets.retain(|r| Arc::strong_count(r) > 1);
        resets.push(Arc::clone(&reset));
        let (front, handler) = connection_handler();
        let service = service_fn(move |request: Request<Incoming>| {
            // HTTP/2 multiplexes requests on the connection: an error resets only this stream
            // (RST_STREAM), which hyper does on its own; HTTP/1.1's reset is the connection's.
            let multiplexed = request.version() == http::Version::HTTP_2;
            let in_flight = watchdog.begin();
            let response = handler(request);
            let reset = Arc::clone(&reset);
            async move {
                let response = response.await;
                if response.as_ref().err() == Some(&Abort::Reset) && !multiplexed {
                    reset.store(true, Ordering::Relaxed);
                }
                response.map(|response| response.map(|body| InFlightBody::new(body, in_flight)))
            }
        });
        let watcher = graceful.watcher();
        let drain_signal = draining.subscribe();
        connections.spawn(async move {
            let slot = slot;
            let (stream, read) = match front {
                Some(front) => match front(stream, drain_signal.clone()).await {
                    Some(handed_over) => {
                        slot.handed_over();
                        handed_over
                    }
                    None => return,
                },
                None => (stream, Bytes::new()),
            };
            // HTTP/1.1, or HTTP/2 with prior knowledge (h2c), told apart by the connection preface.
            let connection = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(Rewind::new(stream, read)), service)
                .into_owned();
            // Handed over while the server drains, it is not watched: a watched connection told
            // to shut down would end before serving the request it was handed.
            let draining = *drain_signal.borrow();
            let served = match draining {
                true => connection.await,
                false => watcher.watch(connection).await,
            };
            if let Err(error) = served {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    draining.send_replace(true);
    let drained = async {
        graceful.shutdown().await;
        while connections.join_next().await.is_some() {}
    };
    if tokio::time::timeout(DRAIN_BOUND, drained).await.is_err() {
        tracing::debug!("connections still open after the drain bound; stopping them");
    }
    connections.shutdown().await;
}

/// Listens on `addr` again after a dark spell (retrying while the port is briefly busy),
/// sharing it with sibling shards when the first listener did.
async fn relisten(addr: Option<SocketAddr>, shared: bool) -> Option<TcpListener> {
    let addr = addr?;
    for _ in 0..50 {
        let bound = match shared {
            true => super::shards::bind_shared(addr).and_then(TcpListener::from_std),
            false => TcpListener::bind(addr).await,
        };
        match bound {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::warn!(%error, %addr, "cannot listen again yet");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    None
}

/// One server, or several shards of one, stopped by [`ServerHandle::shutdown`] (or by
/// dropping the handle).
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    /// The limits every loop keeps, and what they did.
    gate: Arc<ConnectionGate>,
    stop: watch::Sender<bool>,
    refuse: watch::Sender<bool>,
    /// One per serving loop, resolved when that loop has drained and ended.
    finished: Vec<oneshot::Receiver<()>>,
}

/// Starts [`serve`] on its own task, every connection served by a clone of `handler`.
pub fn spawn<H, F, B>(
    listener: TcpListener,
    limits: ConnectionLimits,
    handler: H,
) -> std::io::Result<ServerHandle>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    spawn_per_connection(listener, limits, move || (None, handler.clone()))
}

/// Starts [`serve`] on its own task, each connection served by what `connection_handler`
/// makes for it (a handler, and optionally a [`Front`] first).
pub fn spawn_per_connection<M, H, F, B>(
    listener: TcpListener,
    limits: ConnectionLimits,
    connection_handler: M,
) -> std::io::Result<ServerHandle>
where
    M: Fn() -> (Option<Front>, H) + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut handle = ServerHandle::new(listener.local_addr()?, limits);
    let (shutdown, refuse) = handle.signals();
    let gate = handle.gate();
    let (done, finished) = oneshot::channel();
    tokio::spawn(async move {
        serve(listener, connection_handler, gate, shutdown, refuse).await;
        let _ = done.send(());
    });
    handle.track(finished);
    Ok(handle)
}

impl ServerHandle {
    /// A handle for loops serving `addr` within `limits`, none started yet.
    pub(super) fn new(addr: SocketAddr, limits: ConnectionLimits) -> Self {
        ServerHandle {
            addr,
            gate: Arc::new(ConnectionGate::new(limits)),
            stop: watch::channel(false).0,
            refuse: watch::channel(false).0,
            finished: Vec::new(),
        }
    }

    /// What one more serving loop watches: the stop signal (it also fires when the handle is
    /// dropped) and the dark switch.
    pub(super) fn signals(&self) -> (impl Future<Output = ()> + Send + 'static, watch::Receiver<bool>) {
        let mut stop = self.stop.subscribe();
        let stopped = async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        };
        (stopped, self.refuse.subscribe())
    }

    /// The limits one more serving loop keeps, shared with the others.
    pub(super) fn gate(&self) -> Arc<ConnectionGate> {
        Arc::clone(&self.gate)
    }

    /// What the limits on connections did so far, over every loop.
    pub fn connection_counts(&self) -> ConnectionCounts {
        self.gate.counts()
    }

    /// Waits for this loop too on shutdown.
    pub(super) fn track(&mut self, finished: oneshot::Receiver<()>) {
        self.finished.push(finished);
    }

    /// Goes dark (refuses connections and resets open ones) or comes back on the same address.
    pub fn set_refusing(&self, refusing: bool) {
        self.refuse.send_replace(refusing);
    }

    /// Stops accepting, lets connections finish within the drain bound, stops the rest.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for finished in self.finished.drain(..) {
            let _ = finished.await;
        }
    }
}
