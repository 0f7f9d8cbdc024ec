//! What a web page in a browser on this machine cannot make the operations servers do.
//!
//! Without a token, a loopback listener trusts whoever can reach it, and a browser can reach it
//! for any page it shows: a form or a `fetch()` posting `text/plain` needs no CORS preflight,
//! and DNS rebinding gives a foreign name this machine's address. So:
//! - the `Host` must be a loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port) or the
//!   listener's own address, when the listener is on loopback (beyond loopback the operator
//!   consented, and clients name the machine as they like); 403 otherwise;
//! - an `Origin`, when present, must be the listener's own, `http://` and the request's `Host`
//!   (`null` included in the refusal); 403 otherwise;
//! - a `POST` must say its body is JSON or YAML ([`BODY_TYPES`]), types a page cannot send
//!   cross-origin without a preflight this server never grants; 415 otherwise. `DELETE` needs
//!   a preflight whatever its type, so it is left to the `Origin` rule (toxiproxy clients send
//!   it bare).
//!
//! Each refusal is a short JSON error and is decided before anything is read or changed.

use std::net::{IpAddr, SocketAddr};

use http::{header, HeaderMap, Method, StatusCode};
use hyper::Response;

use super::http::{error, Body};

/// The media types a state change may carry (parameters such as `charset` aside).
pub const BODY_TYPES: [&str; 4] = ["application/json", "application/yaml", "application/x-yaml", "text/yaml"];

/// The rules for one listener, bound at `bound`.
#[derive(Debug, Clone, Copy)]
pub struct BrowserGuard {
    bound: SocketAddr,
}

impl BrowserGuard {
    pub fn new(bound: SocketAddr) -> BrowserGuard {
        BrowserGuard { bound }
    }

    /// The refusal of a request that a page could have sent, if it is one: the `Host` rule,
    /// then the `Origin` rule, then (for `POST`) the content type.
    pub fn refusal(&self, method: &Method, headers: &HeaderMap) -> Option<Response<Body>> {
        self.host_refusal(headers)
            .or_else(|| origin_refusal(headers))
            .or_else(|| (method == Method::POST).then(|| content_type_refusal(headers)).flatten())
    }

    /// The refusal of a `Host` that is not this listener's (the only rule reads need).
    pub fn host_refusal(&self, headers: &HeaderMap) -> Option<Response<Body>> {
        if !crate::loopback::is_loopback(&self.bound) {
            return None;
        }
        let host = headers.get(header::HOST)?;
        let accepted = host.to_str().ok().is_some_and(|host| self.is_own_host(host));
        (!accepted).then(|| {
            error(
                StatusCode::FORBIDDEN,
                format!("the Host must be localhost, 127.0.0.1, [::1] or {}", self.bound.ip()),
            )
        })
    }

    fn is_own_host(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<http::uri::Authority>() else { return false };
        let name = authority.host();
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        name.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip == self.bound.ip())
    }
}

/// The refusal of an `Origin` other than `http://` and the request's own `Host`.
fn origin_refusal(headers: &HeaderMap) -> Option<Response<Body>> {
    let origin = headers.get(header::ORIGIN)?;
    let own = headers.get(header::HOST).and_then(|host| host.to_str().ok());
    let same = match (origin.to_str().ok().and_then(|o| o.strip_prefix("http://")), own) {
        (Some(origin), Some(host)) => origin.eq_ignore_ascii_case(host),
        _ => false,
    };
    (!same).then(|| error(StatusCode::FORBIDDEN, "a request from another Origin is refused"))
}

/// The refusal of a body that does not say it is JSON or YAML, with the types accepted.
fn content_type_refusal(headers: &HeaderMap) -> Option<Response<Body>> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if media_type.is_some_and(|media_type| BODY_TYPES.contains(&media_type.as_str())) {
        return None;
    }
    let accepted = BODY_TYPES.join(", ");
    let mut response =
        error(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("a POST must carry Content-Type: {accepted}"));
    if let Ok(value) = http::HeaderValue::from_str(&accepted) {
        response.headers_mut().insert(http::HeaderName::from_static("accept-post"), value);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (header::HeaderName::from_static(name), value.parse().unwrap()))
            .collect()
    }

    fn status(guard: &BrowserGuard, method: Method, pairs: &[(&'static str, &str)]) -> Option<u16> {
        guard.refusal(&method, &headers(pairs)).map(|refused| refused.status().as_u16())
    }

    #[test]
    fn loopback_names_and_the_bound_address_are_the_only_hosts() {
        let guard = BrowserGuard::new("127.0.0.2:7474".parse().unwrap());
        for host in ["localhost", "LocalHost:7474", "127.0.0.1:9", "[::1]", "[::1]:7474", "127.0.0.2"] {
            assert_eq!(status(&guard, Method::GET, &[("host", host)]), None, "{host}");
        }
        for host in
            ["attacker.example", "attacker.example:7474", "localhost.attacker.example", "10.0.0.1", ""]
        {
            assert_eq!(status(&guard, Method::GET, &[("host", host)]), Some(403), "{host}");
        }
        let remote = BrowserGuard::new("0.0.0.0:7474".parse().unwrap());
        assert_eq!(status(&remote, Method::GET, &[("host", "gateway.internal:7474")]), None);
    }

    #[test]
    fn only_the_listeners_own_origin_is_taken() {
        let guard = BrowserGuard::new("127.0.0.1:7474".parse().unwrap());
        let json = ("content-type", "application/json");
        let host = ("host", "localhost:7474");
        assert_eq!(status(&guard, Method::POST, &[json, host, ("origin", "http://localhost:7474")]), None);
        for origin in ["http://attacker.example", "null", "https://localhost:7474", "http://localhost:80"] {
            assert_eq!(
                status(&guard, Method::POST, &[json, host, ("origin", origin)]),
                Some(403),
                "{origin}"
            );
        }
        assert_eq!(status(&guard, Method::DELETE, &[host, ("origin", "http://attacker.example")]), Some(403));
    }

    #[test]
    fn a_post_must_say_json_or_yaml() {
        let guard = BrowserGuard::new("127.0.0.1:7474".parse().unwrap());
        for accepted in
            ["application/json", "Application/JSON; charset=utf-8", "application/yaml", "text/yaml"]
        {
            assert_eq!(status(&guard, Method::POST, &[("content-type", accepted)]), None, "{accepted}");
        }
        for refused in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"] {
            assert_eq!(status(&guard, Method::POST, &[("content-type", refused)]), Some(415), "{refused}");
        }
        assert_eq!(status(&guard, Method::POST, &[]), Some(415));
        assert_eq!(status(&guard, Method::GET, &[]), None);
        assert_eq!(status(&guard, Method::DELETE, &[]), None);
    }
}
