//! The header-read and idle timeouts of one accepted connection. Whoever serves it (the
//! interposer's byte-level path, hyper) tells its [`Watchdog`] when a request's head has come
//! and when its answer has gone ([`Watchdog::begin`]); the connection's reads ([`Watched`]) are
//! given a deadline only while no request is in flight, so a fault that delays or stalls an
//! answer (`latency`, `hang`, a slow stream) is never cut by them.
//!
//! While the server waits: a new connection must bring its first request's head within the
//! header timeout; after an answer, the next request must start within the idle timeout, and its
//! head be whole within the header timeout of its first byte. Past the deadline the read fails
//! (`TimedOut`) and the connection closes; when part of an HTTP/1 head had come, a `408` with
//! `Connection: close` is written first (to a client that sent nothing, an unasked answer would
//! read as the answer to the request it sends next, so it gets a bare close). An HTTP/2
//! connection (its preface seen) is only ever timed as idle: its control frames are no request.

use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

use super::limits::{ConnectionGate, Expiry};

/// What a client that took too long to send its head is told before the close.
const REQUEST_TIMEOUT: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// The start of HTTP/2's connection preface.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// The waiting state of one connection, shared by its reads and whoever serves it.
#[derive(Debug)]
pub struct Watchdog {
    gate: Arc<ConnectionGate>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Requests whose head has come and whose answer has not gone.
    in_flight: u32,
    /// Since when nothing has been in flight: the connection's opening or the last answer's end.
    waiting_since: Instant,
    /// When the first byte came while nothing was in flight.
    first_byte: Option<Instant>,
    /// Whether a request has been in flight yet.
    served: bool,
    /// Whether any byte has come yet, and whether the first were HTTP/2's preface.
    heard: bool,
    http2: bool,
}

impl Watchdog {
    pub fn new(gate: Arc<ConnectionGate>) -> Arc<Self> {
        let state = State {
            in_flight: 0,
            waiting_since: Instant::now(),
            first_byte: None,
            served: false,
            heard: false,
            http2: false,
        };
        Arc::new(Watchdog { gate, state: Mutex::new(state) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request's head has come: no deadline until the returned guard goes (its answer has
    /// gone, or it was abandoned).
    pub fn begin(self: &Arc<Self>) -> InFlight {
        let mut state = self.state();
        state.in_flight += 1;
        state.served = true;
        state.first_byte = None;
        InFlight { dog: Arc::clone(self) }
    }

    /// Bytes came off the socket.
    fn heard(&self, bytes: &[u8]) {
        let mut state = self.state();
        if !state.heard {
            state.heard = true;
            state.http2 = bytes.starts_with(HTTP2_PREFACE);
        }
        if state.in_flight == 0 && state.first_byte.is_none() && !state.http2 {
            state.first_byte = Some(Instant::now());
        }
    }

    /// When the connection is closed unless a request comes, and why; `None` while one is in
    /// flight.
    fn deadline(&self) -> Option<(Instant, Expiry)> {
        let state = self.state();
        if state.in_flight > 0 {
            return None;
        }
        let limits = &self.gate.limits;
        Some(match state.first_byte {
            Some(first) => (first + limits.header_timeout, Expiry::Header),
            None if !state.served && !state.http2 => {
                (state.waiting_since + limits.header_timeout, Expiry::Header)
            }
            None => (state.waiting_since + limits.idle_timeout, Expiry::Idle),
        })
    }

    /// Whether part of an HTTP/1 head has come, so a 408 answers it.
    fn owes_408(&self) -> bool {
        let state = self.state();
        state.first_byte.is_some() && !state.http2
    }
}

/// A request in flight on a watched connection; the wait for the next starts when it goes.
#[derive(Debug)]
pub struct InFlight {
    dog: Arc<Watchdog>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.dog.state();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.waiting_since = Instant::now();
            state.first_byte = None;
        }
    }
}

/// A connection's stream whose reads fail once its [`Watchdog`]'s deadline passes.
pub struct Watched<S> {
    inner: S,
    dog: Arc<Watchdog>,
    timer: Pin<Box<Sleep>>,
    /// The deadline the timer is set to.
    armed: Option<Instant>,
    /// Whether the last write could not go at once (a 408 would cut into it).
    write_blocked: bool,
    expired: bool,
}

impl<S> Watched<S> {
    pub fn new(inner: S, dog: Arc<Watchdog>) -> Self {
        Watched {
            inner,
            dog,
            timer: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed: None,
            write_blocked: false,
            expired: false,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn watchdog(&self) -> &Arc<Watchdog> {
        &self.dog
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the client took too long to send a request")
}

impl<S: AsyncRead + AsyncWrite + Unpin> Watched<S> {
    /// Whether the deadline has passed, waking `cx` when it will.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<Expiry> {
        let Some((deadline, expiry)) = self.dog.deadline() else {
            return Poll::Pending;
        };
        if self.armed != Some(deadline) {
            self.timer.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
        std::future::Future::poll(self.timer.as_mut(), cx).map(|()| expiry)
    }

    /// Closes the wait: counts it, and writes a 408 when one is owed and fits at once.
    fn expire(&mut self, cx: &mut Context<'_>, expiry: Expiry) -> io::Error {
        self.expired = true;
        self.dog.gate.expired(expiry);
        if expiry == Expiry::Header && self.dog.owes_408() && !self.write_blocked {
            let _ = Pin::new(&mut self.inner).poll_write(cx, REQUEST_TIMEOUT);
        }
        timed_out()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Watched<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(Err(timed_out()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.dog.heard(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.poll_deadline(cx) {
                Poll::Ready(expiry) => Poll::Ready(Err(this.expire(cx, expiry))),
                Poll::Pending => Poll::Pending,
            },
            failed => failed,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.write_blocked = written.is_pending();
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.write_blocked = written.is_pending();
        written
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;
    use crate::net::limits::ConnectionLimits;

    const HEADER: Duration = Duration::from_secs(5);
    const IDLE: Duration = Duration::from_secs(60);

    /// A watched server end, its client end and the counts.
    fn connection() -> (Watched<DuplexStream>, DuplexStream, Arc<ConnectionGate>) {
        let limits = ConnectionLimits { header_timeout: HEADER, idle_timeout: IDLE, max_connections: 8 };
        let gate = Arc::new(ConnectionGate::new(limits));
        let (server, client) = tokio::io::duplex(4096);
        (Watched::new(server, Watchdog::new(Arc::clone(&gate))), client, gate)
    }

    /// Reads on `server` until it fails; returns when, after `start`.
    async fn read_until_closed(
        server: &mut Watched<DuplexStream>,
        start: Instant,
    ) -> (io::ErrorKind, Duration) {
        let mut buf = [0u8; 64];
        loop {
            match server.read(&mut buf).await {
                Ok(0) => panic!("the client closed"),
                Ok(_) => {}
                Err(error) => return (error.kind(), start.elapsed()),
            }
        }
    }

    async fn answer_of(client: &mut DuplexStream) -> String {
        let mut answer = vec![0u8; 256];
        let read = tokio::time::timeout(Duration::from_millis(1), client.read(&mut answer)).await;
        String::from_utf8_lossy(&answer[..read.map_or(0, |r| r.unwrap_or(0))]).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_that_sends_nothing_is_closed_at_the_header_timeout_without_a_408() {
        let (mut server, mut client, gate) = connection();
        let (kind, after) = read_until_closed(&mut server, Instant::now()).await;
        assert_eq!((kind, after), (io::ErrorKind::TimedOut, HEADER));
        assert_eq!(answer_of(&mut client).await, "");
        assert_eq!(gate.counts().header_timeouts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_dripping_one_byte_a_second_gets_a_408_at_the_header_timeout() {
        let (mut server, mut client, gate) = connection();
        let start = Instant::now();
        let drip = async {
            for byte in b"POST /v1/chat/completions HTTP/1.1\r\n" {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if client.write_all(&[*byte]).await.is_err() {
                    break;
                }
            }
            client
        };
        let (closed, mut client) = tokio::join!(read_until_closed(&mut server, start), drip);
        // The first byte came at 1 s: its head had until 1 s + the header timeout.
        assert_eq!(closed, (io::ErrorKind::TimedOut, Duration::from_secs(1) + HEADER));
        assert!(answer_of(&mut client)
            .await
            .starts_with("HTTP/1.1 408 Request Timeout\r\nconnection: close"));
        assert_eq!(gate.counts().header_timeouts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_after_an_answer_is_closed_at_the_idle_timeout() {
        let (mut server, mut client, gate) = connection();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 18];
        server.read_exact(&mut buf).await.unwrap();
        let request = server.watchdog().begin();
        tokio::time::sleep(Duration::from_secs(600)).await;
        drop(request);
        let (kind, after) = read_until_closed(&mut server, Instant::now()).await;
        assert_eq!((kind, after), (io::ErrorKind::TimedOut, IDLE));
        assert_eq!(answer_of(&mut client).await, "", "nothing was asked");
        assert_eq!((gate.counts().header_timeouts, gate.counts().idle_timeouts), (0, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_timed_out_however_long_its_answer_takes() {
        let (mut server, _client, gate) = connection();
        let request = server.watchdog().begin();
        let mut buf = [0u8; 64];
        let waited = tokio::time::timeout(Duration::from_secs(3600), server.read(&mut buf)).await;
        assert!(waited.is_err(), "still reading after an hour: {waited:?}");
        drop(request);
        assert_eq!(gate.counts(), Default::default());
    }

    #[tokio::test(start_paused = true)]
    async fn an_http2_connection_between_streams_is_timed_as_idle_and_gets_no_408() {
        let (mut server, mut client, gate) = connection();
        client.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        let (kind, after) = read_until_closed(&mut server, Instant::now()).await;
        assert_eq!((kind, after), (io::ErrorKind::TimedOut, IDLE));
        assert_eq!(answer_of(&mut client).await, "");
        assert_eq!(gate.counts().idle_timeouts, 1);
    }
}
