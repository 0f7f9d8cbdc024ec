//! The one accept loop: serves HTTP/1.1 (keep-alive) on a listener until `shutdown`
//! resolves, lets open connections finish within a bound, then stops the rest, so whatever
//! they held (an attempt record's drop guard) is settled before the caller reads results.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use super::abortable::{Abort, AbortableStream};
use hyper::{body::Incoming, service::service_fn, Request, Response};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::{JoinHandle, JoinSet},
};

/// How long open connections get to finish after shutdown starts. Short: the runner drains
/// the load before it stops servers, so what is left is abandoned anyway.
const DRAIN_BOUND: Duration = Duration::from_secs(1);

/// Serves `handler` on every connection accepted from `listener` until `shutdown` resolves. A
/// handler that returns an [`Abort`] ends its connection without answering. While `refuse` is
/// true the server is dark: it stops listening (connections are refused) and resets every open
/// connection; when it turns false it listens on the same address again.
pub async fn serve<H, F, B>(
    listener: TcpListener,
    handler: H,
    shutdown: impl Future<Output = ()>,
    mut refuse: watch::Receiver<bool>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut resets: Vec<Arc<AtomicBool>> = Vec::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let addr = listener.local_addr().ok();
    let mut listener = Some(listener);
    let mut switch_open = true;
    loop {
        let Some(active) = listener.as_ref() else {
            // Dark: wait to be switched back on, then listen on the same address again.
            tokio::select! {
                changed = refuse.changed(), if switch_open => {
                    switch_open = changed.is_ok();
                    if !switch_open || !*refuse.borrow() {
                        listener = relisten(addr).await;
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
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
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
        let _ = stream.set_nodelay(true);
        let (stream, reset) = AbortableStream::new(stream);
        resets.retain(|r| Arc::strong_count(r) > 1);
        resets.push(Arc::clone(&reset));
        let handler = handler.clone();
        let service = service_fn(move |request| {
            let response = handler(request);
            let reset = Arc::clone(&reset);
            async move {
                let response = response.await;
                if response.as_ref().err() == Some(&Abort::Reset) {
                    reset.store(true, Ordering::Relaxed);
                }
                response
            }
        });
        let connection =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_BOUND, graceful.shutdown()).await.is_err() {
        tracing::debug!("connections still open after the drain bound; stopping them");
    }
    connections.shutdown().await;
}

/// Listens on `addr` again after a dark spell (retrying while the port is briefly busy).
async fn relisten(addr: Option<SocketAddr>) -> Option<TcpListener> {
    let addr = addr?;
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Some(listener),
            Err(error) => {
                tracing::warn!(%error, %addr, "cannot listen again yet");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    None
}

/// A server running on its own task, stopped by [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    refuse: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts [`serve`] on its own task.
pub fn spawn<H, F, B>(listener: TcpListener, handler: H) -> std::io::Result<ServerHandle>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let (refuse, refusing) = watch::channel(false);
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve(listener, handler, shutdown, refusing));
    Ok(ServerHandle { addr, stop: Some(stop), refuse, task })
}

impl ServerHandle {
    /// Goes dark (refuses connections and resets open ones) or comes back on the same address.
    pub fn set_refusing(&self, refusing: bool) {
        self.refuse.send_replace(refusing);
    }

    /// Stops accepting, lets connections finish within the drain bound, stops the rest.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
