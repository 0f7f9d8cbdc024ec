//! The accept loop of the servers that serve raw connections, with no HTTP stack of ours
//! (the floors `chaos bench` measures against): each accepted connection handed to a task of
//! its own until the stop signal. A failing accept backs off as the HTTP servers' does.

use std::future::Future;

use tokio::net::{TcpListener, TcpStream};

use super::{accept_backoff::AcceptBackoff, Stopped};

/// Accepts on `listener` until `stopped`, spawning `serve(stream)` for each connection.
pub async fn accept_each<S, F>(listener: std::net::TcpListener, mut stopped: Stopped, serve: S)
where
    S: Fn(TcpStream) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => return tracing::error!(%error, "cannot accept on this listener"),
    };
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            () = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff.accepted();
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream));
                }
                Err(error) => backoff.failed(&error).await,
            },
        }
    }
}
