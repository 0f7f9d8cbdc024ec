//! The upstream connections of one downstream connection. A target's connection to the
//! interposer gets connections of its own to the upstream ([`crate::net::Connections`]), opened
//! when its first request is forwarded and closed with it, so the upstream sees the connections
//! the target opened, one for one, as behind a TCP relay.
//!
//! A target speaking HTTP/1.1 sends one request at a time, so one upstream connection serves
//! it; over HTTP/2 its streams run at once, and each stream that finds every connection busy
//! opens another (some are kept for the next ones). A connection is kept again as soon as the
//! answer's head is back: the next request on it waits for the body to finish, or passes it over.

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;

use super::{forward::ForwardBody, tls::UpstreamTls};
use crate::net::Connections;

/// Opens TCP connections (Nagle off) to the upstream, with TLS for an `https://` one.
pub type Connector = HttpsConnector<HttpConnector>;

/// The upstream connections one downstream connection forwards over.
pub type UpstreamLink = Connections<Connector, ForwardBody>;

/// A connector with Nagle off that speaks TLS to an `https://` upstream, trusting `tls`.
pub fn connector(tls: &UpstreamTls) -> Connector {
    let mut tcp = crate::net::tcp_connector();
    tcp.enforce_http(false);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp)
}
