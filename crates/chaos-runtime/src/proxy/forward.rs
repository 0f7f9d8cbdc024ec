//! Forwarding to the upstream: the request and response bodies stream through untouched
//! (no buffering), only the URI (to origin-form) and hop-by-hop headers change — and, for an HTTPS
//! upstream (a real provider), `Host`, which must name the provider rather than us.

use http::{header, HeaderMap, Uri};
use hyper::{body::Incoming, Request, Response};

use super::upstream::UpstreamLink;
use crate::net::{http1, BoxError, Busy};

/// A request body on its way upstream: streamed through, or already read (when a fault had to
/// look inside it).
pub type ForwardBody = http_body_util::Either<Incoming, http_body_util::Full<bytes::Bytes>>;

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // They are rare: looking compares names already parsed, where each removal would hash one.
    if !headers.keys().any(|name| http1::is_hop_by_hop(name.as_str())) {
        return;
    }
    for name in http1::HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Sends `request` over `link` to its upstream keeping its path, query, headers (including
/// `Host` and auth) and body.
pub async fn forward(
    link: &UpstreamLink,
    request: Request<ForwardBody>,
) -> Result<Response<Incoming>, BoxError> {
    let (mut parts, body) = request.into_parts();
    // One request at a time over HTTP/1.x; HTTP/2 streams run at once.
    let busy = if parts.version < http::Version::HTTP_2 { Busy::Wait } else { Busy::PassOver };
    // Origin-form (`/path?query`): the connection already goes to the upstream.
    parts.uri = parts.uri.path_and_query().cloned().map_or_else(|| Uri::from_static("/"), Uri::from);
    strip_hop_by_hop(&mut parts.headers);
    // The upstream is spoken to in HTTP/1.1 whatever the target spoke to us (HTTP/2 included).
    parts.version = http::Version::HTTP_11;
    // A provider routes (and checks SNI against) its own name, so an HTTPS upstream gets `Host`
    // naming it rather than us; a request without one (HTTP/2 has `:authority` instead) too.
    if link.origin().scheme() == Some(&http::uri::Scheme::HTTPS) || !parts.headers.contains_key(header::HOST)
    {
        if let Some(host) = link.host() {
            parts.headers.insert(header::HOST, host.clone());
        }
    }
    let (mut response, connection) = link.send(Request::from_parts(parts, body), busy).await?;
    link.keep(connection);
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
