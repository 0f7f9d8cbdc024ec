//! Keep-alive HTTP/1.1 connections to one origin through hyper's client, owned by one user: an
//! interposer's connection from the target on hyper's path (its upstream connections; the
//! byte-level path and the load generator speak [`super::http1`] as a client instead).
//! A request takes a kept connection or opens one; the caller keeps it again when it may carry
//! the next request. This replaces hyper-util's shared pool, whose checkout, hashed key and
//! task spawned to hand each connection back cost ~10,000 instructions a request
//! (`benches/proxy_instructions.sh`: 76,821 → 67,368 per proxied POST).
//!
//! Requests go out as given: origin-form URI (`/path?query`) and a `Host` header are the
//! caller's to set ([`Connections::host`] is the origin's).

use std::{
    collections::VecDeque,
    future::poll_fn,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use http::{HeaderValue, Request, Response, Uri};
use hyper::{
    body::{Body, Incoming},
    client::conn::http1::{self, SendRequest},
    rt::{Read, Write},
};
use tower_service::Service;

use super::BoxError;

/// How long a kept connection may sit idle before it is closed (hyper-util's pool's default).
const IDLE_LIMIT: Duration = Duration::from_secs(90);

/// How long a request waits for a kept connection to finish its last exchange. Normally that
/// takes microseconds (the connection's task has to see the end of the answer); one that is
/// not done by then may never be — an upstream that answered before reading the whole request
/// body and stopped reading leaves its connection busy for good — so it is closed instead and
/// the request goes on a new one.
const READY_WAIT: Duration = Duration::from_millis(20);

/// Whether a request waits for a kept connection that is still busy with the last answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Wait (up to [`READY_WAIT`]): the owner sends one request at a time (an HTTP/1.1 target)
    /// or keeps only connections whose answer was read to its end, so the wait is short.
    Wait,
    /// Pass it over and open another: requests run at once (HTTP/2 streams).
    PassOver,
}

/// Connections to one origin, opened with `C` (a connector such as hyper-util's
/// `HttpConnector`), each driven by a task of its own on the runtime that opened it.
pub struct Connections<C, B> {
    connector: C,
    /// Scheme and authority of the origin.
    origin: Uri,
    /// `Host` naming the origin, made once.
    host: Option<HeaderValue>,
    /// Kept connections, the most recently kept last, each with when it was kept.
    kept: Mutex<VecDeque<(SendRequest<B>, Instant)>>,
}

impl<C, B> Connections<C, B>
where
    C: Service<Uri> + Clone,
    C::Response: Read + Write + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    pub fn new(connector: C, origin: Uri) -> Self {
        let host = host_header(&origin);
        Connections { connector, origin, host, kept: Mutex::new(VecDeque::new()) }
    }

    /// The scheme and authority connections go to.
    pub fn origin(&self) -> &Uri {
        &self.origin
    }

    /// `Host` naming the origin (its authority, without the scheme's default port); `None` for
    /// an origin without a host.
    pub fn host(&self) -> Option<&HeaderValue> {
        self.host.as_ref()
    }

    /// Sends `request` and waits for the answer's head; returns the connection it went on,
    /// for [`Connections::keep`].
    pub async fn send(
        &self,
        mut request: Request<B>,
        busy: Busy,
    ) -> Result<(Response<Incoming>, SendRequest<B>), BoxError> {
        loop {
            let (mut sender, fresh) = match self.kept_ready(busy).await {
                Some(sender) => (sender, false),
                None => (self.connect().await?, true),
            };
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, sender)),
                Err(mut failed) => match failed.take_message() {
                    // A kept connection closed before the request went out (the other side's
                    // idle timeout): the request is untouched, so it goes on another.
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(failed.into_error().into()),
                },
            }
        }
    }

    /// Keeps `sender` for a later request. As many are kept as were busy at once (the owner's
    /// peak concurrency), each until it has been idle for [`IDLE_LIMIT`] or the owner goes.
    pub fn keep(&self, sender: SendRequest<B>) {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner).push_back((sender, Instant::now()));
    }

    /// A kept connection that is ready for a request, closing on the way those that are closed,
    /// idle too long, or (waited for) not ready in time.
    async fn kept_ready(&self, busy: Busy) -> Option<SendRequest<B>> {
        loop {
            let mut sender = {
                let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                while kept.front().is_some_and(|(_, since)| now.duration_since(*since) > IDLE_LIMIT) {
                    kept.pop_front();
                }
                match busy {
                    Busy::Wait => kept.pop_back()?.0,
                    Busy::PassOver => {
                        kept.retain(|(sender, _)| !sender.is_closed());
                        let ready = kept.iter().position(|(sender, _)| sender.is_ready())?;
                        kept.swap_remove_back(ready)?.0
                    }
                }
            };
            if sender.is_ready()
                || matches!(tokio::time::timeout(READY_WAIT, sender.ready()).await, Ok(Ok(())))
            {
                return Some(sender);
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<B>, BoxError> {
        let mut connector = self.connector.clone();
        poll_fn(|cx| connector.poll_ready(cx)).await.map_err(Into::into)?;
        let io = connector.call(self.origin.clone()).await.map_err(Into::into)?;
        let (sender, connection) = http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        Ok(sender)
    }
}

/// `Host` for `origin`: its authority, without the port when it is the scheme's default (and
/// without any userinfo).
pub fn host_header(origin: &Uri) -> Option<HeaderValue> {
    let host = origin.host()?;
    let default_port = match origin.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let value = match origin.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::from_str(&value).ok()
}

/// A TCP connector with Nagle off (plain HTTP).
pub fn tcp_connector() -> hyper_util::client::legacy::connect::HttpConnector {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    connector
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        pin::Pin,
        sync::{
            atomic::{AtomicBool, AtomicUsize, Ordering},
            Arc,
        },
        task::{Context, Poll, Waker},
    };

    /// A connection whose far side is scripted: it answers every request with `200 {}`, and once
    /// `closed` is set it reads as closed (end of stream, writes refused) without waking anyone,
    /// as a connection the server closed a moment before the next request looks.
    struct ScriptedIo {
        closed: Arc<AtomicBool>,
        written: Vec<u8>,
        to_read: Vec<u8>,
        reader: Option<Waker>,
    }

    impl Read for ScriptedIo {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<std::io::Result<()>> {
            if !self.to_read.is_empty() {
                let answer = std::mem::take(&mut self.to_read);
                buf.put_slice(&answer);
            } else if !self.closed.load(Ordering::SeqCst) {
                self.reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        }
    }

    impl Write for ScriptedIo {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bytes: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            if self.closed.load(Ordering::SeqCst) {
                return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
            }
            self.written.extend_from_slice(bytes);
            if let Some(end) = self.written.windows(4).position(|w| w == b"\r\n\r\n") {
                self.written.drain(..end + 4);
                self.to_read.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
                if let Some(reader) = self.reader.take() {
                    reader.wake();
                }
            }
            Poll::Ready(Ok(bytes.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Opens scripted connections, counting them; each one's `closed` switch is kept in turn.
    #[derive(Clone, Default)]
    struct ScriptedConnector {
        opened: Arc<AtomicUsize>,
        switches: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
    }

    impl Service<Uri> for ScriptedConnector {
        type Response = ScriptedIo;
        type Error = std::io::Error;
        type Future = std::future::Ready<std::io::Result<ScriptedIo>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Uri) -> Self::Future {
            self.opened.fetch_add(1, Ordering::SeqCst);
            let closed = Arc::new(AtomicBool::new(false));
            self.switches.lock().unwrap().push(Arc::clone(&closed));
            std::future::ready(Ok(ScriptedIo {
                closed,
                written: Vec::new(),
                to_read: Vec::new(),
                reader: None,
            }))
        }
    }

    fn get() -> Request<http_body_util::Empty<bytes::Bytes>> {
        Request::get("/").header("host", "scripted").body(http_body_util::Empty::new()).unwrap()
    }

    #[tokio::test]
    async fn a_request_refused_by_a_kept_connection_that_just_closed_goes_on_a_new_one() {
        use http_body_util::BodyExt;
        let connector = ScriptedConnector::default();
        let connections = Connections::new(connector.clone(), Uri::from_static("http://scripted"));
        let (answer, sender) = connections.send(get(), Busy::Wait).await.expect("an answer");
        assert_eq!(answer.into_body().collect().await.unwrap().to_bytes(), "{}");
        connections.keep(sender);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        // The far side closes; the kept connection's task does not know it yet.
        connector.switches.lock().unwrap()[0].store(true, Ordering::SeqCst);
        let (answer, _) = connections.send(get(), Busy::Wait).await.expect("an answer on a new connection");
        assert_eq!(answer.status(), 200);
        assert_eq!(connector.opened.load(Ordering::SeqCst), 2, "the kept one, then a new one");
    }

    #[test]
    fn host_names_the_origin_and_its_port_unless_it_is_the_default() {
        let host = |uri: &'static str| host_header(&Uri::from_static(uri)).unwrap();
        assert_eq!(host("http://127.0.0.1:41234"), "127.0.0.1:41234");
        assert_eq!(host("https://api.openai.com"), "api.openai.com");
        assert_eq!(host("https://api.openai.com:443"), "api.openai.com");
        assert_eq!(host("https://gateway.internal:8443"), "gateway.internal:8443");
        assert_eq!(host("http://example.test:80"), "example.test");
    }
}
