//! The `/metrics` endpoint of `chaos run --metrics ADDR`: Prometheus scrapes the run while it
//! goes on ([`super::exposition`] says what it holds). A foreign `Host` is refused (403), so a
//! page DNS-rebound to a loopback listener cannot read it ([`super::browser_guard`]).

use std::sync::Arc;

use http::{Method, StatusCode};
use hyper::{body::Incoming, Request, Response};
use tokio::net::TcpListener;

use super::{
    browser_guard::BrowserGuard,
    exposition,
    http::{error, respond, Body},
    state::RunState,
};
use crate::net::{Abort, ServerHandle};

/// Serves `GET /metrics` on `listener` until the handle is shut down.
pub fn spawn(listener: TcpListener, state: Arc<RunState>) -> std::io::Result<ServerHandle> {
    let registry = Arc::new(exposition::registry(state));
    let guard = BrowserGuard::new(listener.local_addr()?);
    crate::net::spawn(listener, crate::net::ConnectionLimits::default(), move |request: Request<Incoming>| {
        let registry = Arc::clone(&registry);
        let answer = guard
            .host_refusal(request.headers())
            .unwrap_or_else(|| answer(&registry, request.method(), request.uri().path()));
        async move { Ok::<_, Abort>(answer) }
    })
}

fn answer(registry: &prometheus_client::registry::Registry, method: &Method, path: &str) -> Response<Body> {
    if path != "/metrics" {
        return error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}; metrics are at /metrics"));
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
        response.headers_mut().insert(http::header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match exposition::encode(registry) {
        Ok(text) => respond(StatusCode::OK, exposition::CONTENT_TYPE, text),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the exposition could not be written"),
    }
}
