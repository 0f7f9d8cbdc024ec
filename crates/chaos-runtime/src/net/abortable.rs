//! An accepted connection that a handler can abort: closed at once without an answer, or
//! reset (the socket is closed with `SO_LINGER` 0, so the peer gets a TCP RST). Its reads are
//! watched for the header-read and idle timeouts ([`super::watchdog`]), and it tells whether a
//! read has had to wait since it was last asked ([`AbortableStream::take_waited`]).

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
    /// Whether a read found nothing there (and its task waited on the runtime) since
    /// [`AbortableStream::take_waited`] was last asked.
    waited: bool,
}

impl AbortableStream {
    /// The stream, and the switch that makes its close a reset.
    pub fn new(inner: TcpStream, watchdog: Arc<Watchdog>) -> (Self, Arc<AtomicBool>) {
        let reset = Arc::new(AtomicBool::new(false));
        let stream = AbortableStream {
            inner: Watched::new(inner, watchdog),
            reset: Arc::clone(&reset),
            waited: false,
        };
        (stream, reset)
    }

    /// Whether a read has had to wait since the last time this was asked. A read that waited
    /// and then got bytes was woken by the runtime's reactor, which looked at every socket's
    /// events as it did: the readiness cached for another socket (a kept upstream connection)
    /// shows what came on it before then.
    pub fn take_waited(&mut self) -> bool {
        std::mem::take(&mut self.waited)
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
        let this = self.get_mut();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.waited |= read.is_pending();
        read
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
