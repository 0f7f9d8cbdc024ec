//! Forwarding to the upstream: the request and response bodies stream through untouched
//! (no buffering), only the URI's authority and hop-by-hop headers change — and, for an HTTPS
//! upstream (a real provider), `Host`, which must name the provider rather than us.

use http::{header, HeaderMap, Uri};
use hyper::{body::Incoming, Request, Response};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use super::tls::UpstreamTls;

/// A request body on its way upstream: streamed through, or already read (when a fault had to
/// look inside it).
pub type ForwardBody = http_body_util::Either<Incoming, http_body_util::Full<bytes::Bytes>>;

/// The pooled HTTP/1.1 client an interposer uses to reach its upstream, over TCP or TLS.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, ForwardBody>;

/// A keep-alive client with Nagle off, speaking TLS to an `https://` upstream with `tls`.
pub fn upstream_client(tls: &UpstreamTls) -> UpstreamClient {
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

/// Headers that describe one connection, not the message; never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[header::HeaderName] = &[
    header::CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // They are rare: looking compares names already parsed, where each removal would hash one.
    let hop_by_hop = |name: &header::HeaderName| {
        HOP_BY_HOP.contains(name) || name == "keep-alive" || name == "proxy-connection"
    };
    if !headers.keys().any(hop_by_hop) {
        return;
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

/// Sends `request` to `upstream` (scheme and authority) keeping its path, query, headers
/// (including `Host` and auth) and body.
pub async fn forward(
    client: &UpstreamClient,
    upstream: &Uri,
    request: Request<ForwardBody>,
) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
    let (mut parts, body) = request.into_parts();
    let mut uri = upstream.clone().into_parts();
    uri.path_and_query = parts.uri.path_and_query().cloned();
    parts.uri = Uri::from_parts(uri).unwrap_or_else(|_| upstream.clone());
    strip_hop_by_hop(&mut parts.headers);
    // The upstream is spoken to in HTTP/1.1 whatever the target spoke to us (HTTP/2 included).
    parts.version = http::Version::HTTP_11;
    if upstream.scheme() == Some(&http::uri::Scheme::HTTPS) {
        // A provider routes (and checks SNI against) its own name: the client set `Host` to
        // ours. Without the header, the client sends the upstream's authority.
        parts.headers.remove(header::HOST);
    }
    let mut response = client.request(Request::from_parts(parts, body)).await?;
    strip_hop_by_hop(response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&'static str]) -> HeaderMap {
        names.iter().map(|name| (header::HeaderName::from_static(name), "x".parse().unwrap())).collect()
    }

    #[test]
    fn hop_by_hop_headers_go_and_the_rest_stay() {
        let mut mixed =
            headers(&["connection", "keep-alive", "proxy-connection", "te", "authorization", "x-api-key"]);
        strip_hop_by_hop(&mut mixed);
        let mut left: Vec<&str> = mixed.keys().map(header::HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["authorization", "x-api-key"]);
        let mut none = headers(&["authorization", "content-type"]);
        strip_hop_by_hop(&mut none);
        assert_eq!(none.len(), 2);
        let mut only_keep_alive = headers(&["keep-alive", "content-type"]);
        strip_hop_by_hop(&mut only_keep_alive);
        assert_eq!(
            only_keep_alive.keys().map(header::HeaderName::as_str).collect::<Vec<_>>(),
            ["content-type"]
        );
    }
}
