//! An accepted connection that a handler can abort: closed at once without an answer, or
//! reset (the socket is closed with `SO_LINGER` 0, so the peer gets a TCP RST). Its reads are
//! watched for the header-read and idle timeouts ([`super::watchdog`]).

use std::{
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

use super::watchdog::{Watchdog, Watched};

/// How a handler ends a connection instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abort {
    /// Close the connection without a response.
    Close,
    /// Close it with a TCP RST.
    Reset,
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Abort::Close => "connection closed by a fault",
            Abort::Reset => "connection reset by a fault",
        })
    }
}

impl std::error::Error for Abort {}

/// A TCP stream that resets on drop when told to, its reads watched by `watchdog`.
pub struct AbortableStream {
    inner: Watched<TcpStream>,
    reset: Arc<AtomicBool>,
}

impl AbortableStream {
    /// The stream, and the switch that makes its close a reset.
    pub fn new(inner: TcpStream, watchdog: Arc<Watchdog>) -> (Self, Arc<AtomicBool>) {
        let reset = Arc::new(AtomicBool::new(false));
        (AbortableStream { inner: Watched::new(inner, watchdog), reset: Arc::clone(&reset) }, reset)
    }

    /// The connection's watchdog, to tell it when a request is in flight.
    pub fn watchdog(&self) -> &Arc<Watchdog> {
        self.inner.watchdog()
    }

    /// Makes the stream's close a reset (a `reset` fault carried out without hyper).
    pub fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Relaxed);
    }
}

impl Drop for AbortableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            let _ = socket2::SockRef::from(self.inner.get_ref()).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for AbortableStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Carries out a connection fault: waits as it says, then tells the server how to end the
/// connection. A hang with no duration never returns (the target gives up first, or the run
/// stops).
pub async fn enact(fault: crate::fault::ConnectionFault) -> Abort {
    match fault {
        crate::fault::ConnectionFault::Reset => Abort::Reset,
        crate::fault::ConnectionFault::Hang(None) => std::future::pending().await,
        crate::fault::ConnectionFault::Hang(Some(duration)) => {
            tokio::time::sleep(duration).await;
            Abort::Close
        }
    }
}
