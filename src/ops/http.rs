//! What the operations servers share: the loopback rule for where they may listen, the bearer
//! token check, and small response builders (JSON errors with a message, never a panic).

use std::net::SocketAddr;

use bytes::Bytes;
use http::{header, HeaderMap, Response, StatusCode};
use http_body_util::Full;

/// The body every operations response has.
pub type Body = Full<Bytes>;

/// Why an operations server may not listen where it was asked to.
pub fn bind_refusal(what: &str, addr: &SocketAddr, consent: bool, consent_flag: &str) -> Option<String> {
    (!crate::loopback::is_loopback(addr) && !consent).then(|| {
        format!("{what} {addr} is not a loopback address; it is served beyond this machine only with {consent_flag}")
    })
}

/// Whether `headers` carry `Authorization: Bearer <token>` (always, when no token is set). The
/// comparison takes the same time wherever the first difference is.
pub fn authorized(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    presented.len() == token.len()
        && presented.bytes().zip(token.bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

/// A response with a body of the given type.
pub fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    respond(status, "application/json", value.to_string())
}

/// An error as `{"error": message}` (the shape toxiproxy clients read too, with `status`).
pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message.to_string(), "status": status.as_u16() }))
}

/// A request's body, read whole up to `limit` bytes; beyond it, the 413 to answer.
pub async fn read_body(body: hyper::body::Incoming, limit: usize) -> Result<Bytes, Response<Body>> {
    use http_body_util::BodyExt;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => {
            Err(error(StatusCode::PAYLOAD_TOO_LARGE, format!("the body must be at most {limit} bytes")))
        }
    }
}

/// A 401 with the challenge RFC 6750 asks for.
pub fn unauthorized() -> Response<Body> {
    let mut response =
        error(StatusCode::UNAUTHORIZED, "a bearer token is required: Authorization: Bearer <token>");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let mut headers = HeaderMap::new();
        assert!(authorized(&headers, None));
        assert!(!authorized(&headers, Some("s3cret")));
        headers.insert(header::AUTHORIZATION, "Bearer s3cre".parse().unwrap());
        assert!(!authorized(&headers, Some("s3cret")));
        headers.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(authorized(&headers, Some("s3cret")));
        headers.insert(header::AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!authorized(&headers, Some("s3cret")));
    }

    #[test]
    fn beyond_loopback_needs_consent() {
        let remote: SocketAddr = "0.0.0.0:9464".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:9464".parse().unwrap();
        assert!(bind_refusal("--metrics", &remote, false, "--metrics-allow-remote").is_some());
        assert!(bind_refusal("--metrics", &remote, true, "--metrics-allow-remote").is_none());
        assert!(bind_refusal("--metrics", &local, false, "--metrics-allow-remote").is_none());
    }
}
