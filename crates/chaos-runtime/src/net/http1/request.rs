//! A request head read on the fast path: only HTTP/1.1 in origin-form with its body framed by
//! `content-length` (or none), no `Expect`, no upgrade; everything else is [`Parse::Beyond`].

use http::{HeaderMap, HeaderName, Method, Uri};

use super::{content_length, header_map, says_close, without_hop_by_hop, Parse, MAX_HEADERS, MAX_HEAD_BYTES};

/// A request head, and how much of what follows is its body.
#[derive(Debug)]
pub struct RequestHead {
    pub method: Method,
    /// Origin-form: path and query.
    pub uri: Uri,
    /// The headers asked for ([`request`]'s `only`).
    pub headers: HeaderMap,
    /// Bytes of the head, blank line included.
    pub head_len: usize,
    /// Bytes of the body after it.
    pub body_len: u64,
    /// False when the target asked to close the connection after this exchange.
    pub keep_alive: bool,
    /// The head to send upstream in place of the one that came, when it had hop-by-hop headers.
    pub rewritten: Option<Vec<u8>>,
}

/// Reads a request head from the start of `bytes`, keeping the headers named in `only` (all of
/// them when `None`).
pub fn request(bytes: &[u8], only: Option<&[HeaderName]>) -> Parse<RequestHead> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut storage);
    let head_len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD_BYTES => return Parse::Partial,
        Ok(httparse::Status::Partial) | Err(_) => return Parse::Beyond,
    };
    let (Some(method), Some(path), Some(1)) = (parsed.method, parsed.path, parsed.version) else {
        return Parse::Beyond;
    };
    let headers = parsed.headers;
    let framed_otherwise = |name: &str| {
        ["transfer-encoding", "expect", "upgrade"].iter().any(|other| name.eq_ignore_ascii_case(other))
    };
    if !path.starts_with('/')
        || bare_line_feed(&bytes[..head_len])
        || method == "CONNECT"
        || headers.iter().any(|header| framed_otherwise(header.name))
        || !headers.iter().any(|header| header.name.eq_ignore_ascii_case("host"))
    {
        return Parse::Beyond;
    }
    let (Ok(body_len), Ok(method), Ok(uri), Some(map)) = (
        content_length(headers),
        Method::from_bytes(method.as_bytes()),
        path.parse::<Uri>(),
        header_map(headers, only),
    ) else {
        return Parse::Beyond;
    };
    Parse::Complete(RequestHead {
        method,
        uri,
        headers: map,
        head_len,
        body_len: body_len.unwrap_or(0),
        keep_alive: !says_close(headers),
        rewritten: without_hop_by_hop(&bytes[..head_len], headers),
    })
}

/// Whether a line of `head` ends in a bare LF, which httparse accepts but a stricter upstream may
/// read otherwise: such a head is rewritten by hyper rather than passed on as it came.
fn bare_line_feed(head: &[u8]) -> bool {
    memchr::memchr_iter(b'\n', head).any(|at| at == 0 || head[at - 1] != b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> RequestHead {
        match request(bytes, None) {
            Parse::Complete(head) => head,
            other => panic!("{other:?} for {}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn a_post_with_a_length_is_read_with_its_body_still_to_come() {
        let bytes = b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nAuthorization: Bearer k\r\n\r\nhel";
        let head = complete(bytes);
        assert_eq!(head.method, Method::POST);
        assert_eq!(head.uri.path(), "/v1/chat/completions");
        assert_eq!(head.uri.query(), Some("x=1"));
        assert_eq!(head.head_len, bytes.len() - 3);
        assert_eq!(head.body_len, 5);
        assert!(head.keep_alive);
        assert_eq!(head.rewritten, None);
        assert_eq!(head.headers["authorization"], "Bearer k");
    }

    #[test]
    fn only_the_headers_asked_for_are_kept() {
        let bytes =
            b"POST / HTTP/1.1\r\nHost: h\r\nX-Api-Key: k\r\nX-Tenant: blue\r\nContent-Length: 0\r\n\r\n";
        let Parse::Complete(head) = request(bytes, Some(&[HeaderName::from_static("x-api-key")])) else {
            panic!("not read")
        };
        assert_eq!(head.headers.len(), 1);
        assert_eq!(head.headers["x-api-key"], "k");
        assert_eq!(head.body_len, 0);
    }

    #[test]
    fn a_get_has_no_body_and_close_is_kept() {
        let head = complete(b"GET /v1/models HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n");
        assert_eq!(head.body_len, 0);
        assert!(!head.keep_alive);
        assert_eq!(head.rewritten.as_deref(), Some(&b"GET /v1/models HTTP/1.1\r\nhost: h\r\n\r\n"[..]));
    }

    #[test]
    fn a_head_cut_short_needs_more_bytes() {
        assert!(matches!(
            request(b"POST /v1/chat/completions HTTP/1.1\r\nHost: h\r\n", None),
            Parse::Partial
        ));
        assert!(matches!(request(b"", None), Parse::Partial));
    }

    #[test]
    fn what_is_outside_the_subset_is_left_to_hyper() {
        for beyond in [
            &b"GET / HTTP/1.0\r\nHost: h\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"NOT HTTP AT ALL\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: h\r\nX: a\nContent-Length: 5\r\n\r\n",
        ] {
            assert!(matches!(request(beyond, None), Parse::Beyond), "{}", String::from_utf8_lossy(beyond));
        }
        let mut huge = b"GET / HTTP/1.1\r\nHost: h\r\nx-big: ".to_vec();
        huge.resize(MAX_HEAD_BYTES + 1, b'a');
        assert!(matches!(request(&huge, None), Parse::Beyond), "a head too long for the fast path");
        let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            many.extend_from_slice(format!("x-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(request(&many, None), Parse::Beyond), "more headers than the fast path holds");
    }
}
