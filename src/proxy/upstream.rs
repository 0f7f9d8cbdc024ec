//! The upstream connections of one downstream connection. A target's connection to the
//! interposer gets connections of its own to the upstream, opened when its first request is
//! forwarded and closed with it, so the upstream sees the connections the target opened, one
//! for one, as behind a TCP relay — and a request goes out without a shared pool's bookkeeping
//! (hyper-util's pool cost ~10,000 instructions a request: a hashed key, a checkout, a task
//! spawned to hand the connection back; `benches/proxy_instructions.sh`).
//!
//! A target speaking HTTP/1.1 sends one request at a time, so one upstream connection serves
//! it; over HTTP/2 its streams run at once, and each stream that finds every connection busy
//! opens another (a few are kept for the next ones).

use std::{
    future::poll_fn,
    sync::{Mutex, PoisonError},
};

use http::{Request, Response, Uri};
use hyper::{
    body::Incoming,
    client::conn::http1::{self, SendRequest},
};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use super::{forward::ForwardBody, tls::UpstreamTls};
use crate::net::BoxError;

/// Opens TCP connections (Nagle off) to the upstream, with TLS for an `https://` one.
pub type Connector = HttpsConnector<HttpConnector>;

/// How many idle upstream connections one downstream connection keeps for its next requests.
const MOST_KEPT: usize = 16;

/// A connector with Nagle off that speaks TLS to an `https://` upstream, trusting `tls`.
pub fn connector(tls: &UpstreamTls) -> Connector {
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp)
}

/// The upstream connections one downstream connection forwards over.
pub struct UpstreamLink {
    connector: Connector,
    /// Scheme and authority of the upstream.
    upstream: Uri,
    /// Connections whose last exchange has its answer (its body may still be streaming).
    kept: Mutex<Vec<SendRequest<ForwardBody>>>,
}

impl UpstreamLink {
    pub fn new(connector: Connector, upstream: Uri) -> Self {
        UpstreamLink { connector, upstream, kept: Mutex::new(Vec::new()) }
    }

    /// Sends `request` (origin-form URI, `Host` set) and waits for the answer's head. `serial`
    /// says the downstream sends one request at a time (HTTP/1.1), so a kept connection still
    /// finishing the last answer is waited for rather than passed over.
    pub async fn send(
        &self,
        mut request: Request<ForwardBody>,
        serial: bool,
    ) -> Result<Response<Incoming>, BoxError> {
        loop {
            let (mut sender, fresh) = match self.kept_ready(serial).await {
                Some(sender) => (sender, false),
                None => (self.connect().await?, true),
            };
            match sender.try_send_request(request).await {
                Ok(response) => {
                    self.keep(sender);
                    return Ok(response);
                }
                Err(mut failed) => match failed.take_message() {
                    // A kept connection closed before the request went out (the upstream's idle
                    // timeout): the request is untouched, so it goes on another connection.
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(failed.into_error().into()),
                },
            }
        }
    }

    /// A kept connection that is ready for a request, dropping closed ones on the way.
    async fn kept_ready(&self, serial: bool) -> Option<SendRequest<ForwardBody>> {
        loop {
            let mut sender = {
                let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
                if serial {
                    kept.pop()?
                } else {
                    // Streams run at once: one still answering another is not waited for.
                    kept.retain(|sender| !sender.is_closed());
                    let ready = kept.iter().position(SendRequest::is_ready)?;
                    kept.swap_remove(ready)
                }
            };
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn keep(&self, sender: SendRequest<ForwardBody>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < MOST_KEPT {
            kept.push(sender);
        }
    }

    /// A new connection, driven by a task of its own on the current runtime until it closes.
    async fn connect(&self) -> Result<SendRequest<ForwardBody>, BoxError> {
        let mut connector = self.connector.clone();
        poll_fn(|cx| connector.poll_ready(cx)).await?;
        let io = connector.call(self.upstream.clone()).await?;
        let (sender, connection) = http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "upstream connection ended with an error");
            }
        });
        Ok(sender)
    }
}
