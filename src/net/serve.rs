//! The one accept loop: serves HTTP/1.1 (keep-alive) on a listener until `shutdown`
//! resolves, lets open connections finish within a bound, then stops the rest, so whatever
//! they held (an attempt record's drop guard) is settled before the caller reads results.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use super::abortable::{Abort, AbortableStream};
use hyper::{body::Incoming, service::service_fn, Request, Response};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle, task::JoinSet};

/// How long open connections get to finish after shutdown starts. Short: the runner drains
/// the load before it stops servers, so what is left is abandoned anyway.
const DRAIN_BOUND: Duration = Duration::from_secs(1);

/// Serves `handler` on every connection accepted from `listener` until `shutdown` resolves. A
/// handler that returns an [`Abort`] ends its connection without answering.
pub async fn serve<H, F, B>(listener: TcpListener, handler: H, shutdown: impl Future<Output = ()>)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (stream, reset) = AbortableStream::new(stream);
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

/// A server running on its own task, stopped by [`ServerHandle::shutdown`].
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
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
    let task = tokio::spawn(serve(listener, handler, async move {
        let _ = stopped.await;
    }));
    Ok(ServerHandle { addr, stop: Some(stop), task })
}

impl ServerHandle {
    /// Stops accepting, lets connections finish within the drain bound, stops the rest.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
