//! Keep-alive HTTP/1.1 connections to one origin, owned by one user: an interposer's connection
//! from the target (its upstream connections), or a load thread (its connections to a route).
//! A request takes a kept connection or opens one; the caller keeps it again when it may carry
//! the next request. This replaces hyper-util's shared pool, whose checkout, hashed key and
//! task spawned to hand each connection back cost ~10,000 instructions a request
//! (`benches/proxy_instructions.sh`: 76,821 → 67,368 per proxied POST).
//!
//! Requests go out as given: origin-form URI (`/path?query`) and a `Host` header are the
//! caller's to set ([`host_header`]).

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
        Connections { connector, origin, kept: Mutex::new(VecDeque::new()) }
    }

    /// The scheme and authority connections go to.
    pub fn origin(&self) -> &Uri {
        &self.origin
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

/// `Host` for `origin`: its authority, without the port when it is the scheme's default.
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
