//! One address served by several threads, each a current-thread tokio runtime with its own
//! `SO_REUSEPORT` listener on that address. The kernel spreads new connections over the
//! listeners; a connection, its handler and whatever the handler opens (an interposer's
//! upstream connections, opened per connection) then stay on one thread: no wake-ups across
//! threads, no work stealing. That is what the standalone servers (`chaos proxy`, `chaos mock`)
//! run on; inside `chaos run` everything shares one multi-thread runtime instead.
//!
//! Going dark and graceful shutdown reach every shard: each runs the same [`serve`] loop, all
//! watching the one switch and the one stop signal of the returned [`ServerHandle`], and all
//! keeping one cap on open connections between them.

use std::{
    future::Future,
    io,
    net::{SocketAddr, TcpListener},
    pin::Pin,
    sync::Arc,
};

use hyper::{body::Incoming, Request, Response};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::sync::{oneshot, watch};

use super::{
    abortable::Abort,
    limits::{ConnectionGate, ConnectionLimits},
    serve::{serve, Front, ServerHandle},
};

/// The accept backlog of every listener (tokio's default for `TcpListener::bind`).
const BACKLOG: i32 = 1024;

/// A non-blocking listener on `addr` that other `SO_REUSEPORT` listeners may share.
pub fn bind_shared(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// True when `listener` was bound to share its address ([`bind_shared`]).
pub fn is_shared(listener: &tokio::net::TcpListener) -> bool {
    SockRef::from(listener).reuse_port().unwrap_or(false)
}

/// `count` (at least one) listeners on one address: the first on `addr` as given (port 0
/// picks a free port), the rest on the port it got.
pub fn bind_shards(addr: SocketAddr, count: usize) -> io::Result<Vec<TcpListener>> {
    let first = bind_shared(addr)?;
    let bound = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..count {
        listeners.push(bind_shared(bound)?);
    }
    Ok(listeners)
}

/// Serves `addr` on `count` shards (at least one), each on its own thread and runtime with the
/// handler `make_handler` builds for it (given the shard's index; every connection of the shard
/// gets a clone), within `limits`, until the handle is shut down or dropped.
pub fn spawn_sharded<S, H, F, B>(
    addr: SocketAddr,
    count: usize,
    limits: ConnectionLimits,
    mut make_handler: S,
) -> io::Result<ServerHandle>
where
    S: FnMut(usize) -> H,
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    spawn_sharded_per_connection(addr, count, limits, |index| {
        let handler = make_handler(index);
        move || (None, handler.clone())
    })
}

/// As [`spawn_sharded`], but what `make_connection_handler` builds for a shard makes a handler
/// for each connection that shard accepts (for what belongs to one connection alone).
pub fn spawn_sharded_per_connection<S, M, H, F, B>(
    addr: SocketAddr,
    count: usize,
    limits: ConnectionLimits,
    mut make_connection_handler: S,
) -> io::Result<ServerHandle>
where
    S: FnMut(usize) -> M,
    M: Fn() -> (Option<Front>, H) + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Abort>> + Send + 'static,
    B: hyper::body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listeners = bind_shards(addr, count.max(1))?;
    spawn_shards(listeners, limits, |index| {
        let handler = make_connection_handler(index);
        move |listener, gate, stopped, refuse| async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, handler, gate, stopped, refuse).await,
                Err(error) => tracing::error!(%error, shard = index, "cannot serve on this shard"),
            }
        }
    })
}

/// The stop signal of a [`ServerHandle`], as one shard receives it.
pub type Stopped = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One thread per listener, each running on a current-thread runtime of its own what
/// `make_shard` makes for it (given the shard's index): a loop that serves the listener until
/// the handle's stop signal, within the limits all shards share (or ignoring them), and goes
/// dark while its refuse switch is on (or ignores it). Shutting the handle down waits for every
/// loop to end.
pub fn spawn_shards<S, L, F>(
    listeners: Vec<TcpListener>,
    limits: ConnectionLimits,
    mut make_shard: S,
) -> io::Result<ServerHandle>
where
    S: FnMut(usize) -> L,
    L: FnOnce(TcpListener, Arc<ConnectionGate>, Stopped, watch::Receiver<bool>) -> F + Send + 'static,
    F: Future<Output = ()>,
{
    let addr = listeners.first().ok_or_else(|| io::Error::other("no listener to serve"))?.local_addr()?;
    let mut handle = ServerHandle::new(addr, limits);
    for (index, listener) in listeners.into_iter().enumerate() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let shard = make_shard(index);
        let (stopped, refuse) = handle.signals();
        let stopped: Stopped = Box::pin(stopped);
        let gate = handle.gate();
        let (done, finished) = oneshot::channel();
        std::thread::Builder::new().name(format!("chaos-shard-{index}")).spawn(move || {
            runtime.block_on(shard(listener, gate, stopped, refuse));
            let _ = done.send(());
        })?;
        handle.track(finished);
    }
    Ok(handle)
}
