//! A response head read on the fast path, and how its body is framed (RFC 9112 §6.3).

use http::{HeaderMap, StatusCode};

use http::header::{HeaderName, CONTENT_TYPE, RETRY_AFTER};

use super::{
    content_length, head_without, header_map, is_hop_by_hop, says_close, without_hop_by_hop, MAX_HEAD_BYTES,
};

/// The most headers an answer may carry (hyper's client's own limit).
const MAX_ANSWER_HEADERS: usize = 100;

/// The headers of an answer the harness reads: whether it is an event stream, how long it asks
/// the client to wait, and whether it says to retry (the load generator's SDK policy).
pub const READ_HEADERS: [HeaderName; 4] = [
    CONTENT_TYPE,
    RETRY_AFTER,
    HeaderName::from_static("retry-after-ms"),
    HeaderName::from_static("x-should-retry"),
];

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: an answer to `HEAD`, a 1xx, 204 or 304.
    Empty,
    /// After this many bytes.
    Length(u64),
    /// With the last chunk (and its trailers).
    Chunked,
    /// When the upstream closes the connection.
    UntilClose,
}

/// A response head.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: StatusCode,
    /// Only the headers the interposer reads of an answer ([`READ_HEADERS`]): the rest pass
    /// through as bytes, never parsed into names and values.
    pub headers: HeaderMap,
    /// Bytes of the head, blank line included.
    pub head_len: usize,
    pub framing: Framing,
    /// False when the upstream's connection cannot carry another request after this answer.
    pub keep_alive: bool,
    /// The head to send back in place of the one that came, when it had hop-by-hop headers.
    pub rewritten: Option<Vec<u8>>,
}

/// A response head that is not HTTP/1.x as the fast path reads it (or is too long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Reads a response head from the start of `bytes`: `Ok(None)` while it is incomplete, `Err`
/// when it is malformed (or too long), which the fast path treats as an upstream that failed.
/// `to_head` says the request was a `HEAD`, whose answer has no body whatever it says.
pub fn response(bytes: &[u8], to_head: bool) -> Result<Option<ResponseHead>, Malformed> {
    // As many headers as hyper's client takes, so an answer it would relay is relayed here too.
    let mut storage = [httparse::EMPTY_HEADER; MAX_ANSWER_HEADERS];
    let mut parsed = httparse::Response::new(&mut storage);
    let head_len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD_BYTES => return Ok(None),
        Ok(httparse::Status::Partial) | Err(_) => return Err(Malformed),
    };
    let (Some(code), Some(version)) = (parsed.code, parsed.version) else { return Err(Malformed) };
    let status = StatusCode::from_u16(code).map_err(|_| Malformed)?;
    let headers = parsed.headers;
    let chunked =
        headers.iter().rfind(|header| header.name.eq_ignore_ascii_case("transfer-encoding")).map(|header| {
            header
                .value
                .rsplit(|&byte| byte == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
        });
    let length = content_length(headers).map_err(|()| Malformed)?;
    let framing = if to_head || status.is_informational() || code == 204 || code == 304 {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) => Framing::UntilClose,
            (None, Some(length)) => Framing::Length(length),
            (None, None) => Framing::UntilClose,
        }
    };
    Ok(Some(ResponseHead {
        status,
        headers: header_map(headers, Some(&READ_HEADERS)).ok_or(Malformed)?,
        head_len,
        framing,
        keep_alive: version == 1 && !says_close(headers) && framing != Framing::UntilClose,
        rewritten: without_hop_by_hop(&bytes[..head_len], headers),
    }))
}

/// An answer's head as it came (`head`, read whole by [`response`]) made the head of the same
/// answer with its body re-framed as chunked, as hyper writes an answer whose length a stream
/// fault changed: without hop-by-hop headers, `content-length` and `transfer-encoding`, then
/// `transfer-encoding: chunked` (and `connection: close` when the connection ends after it).
pub fn rechunked(head: &[u8], close: bool) -> Result<Vec<u8>, Malformed> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_ANSWER_HEADERS];
    let mut parsed = httparse::Response::new(&mut storage);
    let Ok(httparse::Status::Complete(_)) = parsed.parse(head) else { return Err(Malformed) };
    let reframed = |name: &str| {
        is_hop_by_hop(name)
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
    };
    let added: &[u8] = match close {
        true => b"transfer-encoding: chunked\r\nconnection: close\r\n",
        false => b"transfer-encoding: chunked\r\n",
    };
    Ok(head_without(head, parsed.headers, reframed, added))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8], to_head: bool) -> ResponseHead {
        response(bytes, to_head).expect("well formed").expect("complete")
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing = |bytes: &[u8]| head(bytes, false).framing;
        assert_eq!(framing(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n"), Framing::Length(12));
        assert_eq!(framing(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"), Framing::Chunked);
        assert_eq!(
            framing(b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n"),
            Framing::Chunked,
            "chunked wins over a length"
        );
        assert_eq!(framing(b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n"), Framing::UntilClose);
        assert_eq!(framing(b"HTTP/1.1 200 OK\r\n\r\n"), Framing::UntilClose);
        assert_eq!(framing(b"HTTP/1.1 204 No Content\r\ncontent-length: 3\r\n\r\n"), Framing::Empty);
        assert_eq!(framing(b"HTTP/1.1 304 Not Modified\r\n\r\n"), Framing::Empty);
        assert_eq!(framing(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"), Framing::Empty);
        assert_eq!(head(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n", true).framing, Framing::Empty);
    }

    #[test]
    fn a_connection_carries_on_unless_closed_or_read_to_its_end() {
        assert!(head(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", false).keep_alive);
        assert!(
            !head(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", false).keep_alive
        );
        assert!(!head(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false).keep_alive);
        assert!(!head(b"HTTP/1.1 200 OK\r\n\r\n", false).keep_alive);
    }

    #[test]
    fn a_rechunked_head_loses_its_length_and_hop_by_hop_headers_and_says_chunked() {
        let came = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 40\r\nConnection: keep-alive\r\nx-request-id: r\r\n\r\n";
        let head = rechunked(came, false).expect("well formed");
        assert_eq!(
            head,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-request-id: r\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assert_eq!(rechunked(chunked, false).expect("well formed"), chunked, "said once");
        let closing = rechunked(chunked, true).expect("well formed");
        assert!(closing.ends_with(b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"));
        assert!(rechunked(b"HTTP/1.1 200 OK\r\n", false).is_err());
    }

    #[test]
    fn an_incomplete_head_waits_and_a_malformed_one_fails() {
        assert!(matches!(response(b"HTTP/1.1 200 OK\r\ncontent-le", false), Ok(None)));
        assert!(response(b"HTTP/1.1 abc\r\n\r\n", false).is_err());
        assert!(response(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", false).is_err());
        let status =
            head(b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n", false);
        assert_eq!(status.status, 429);
        assert_eq!(status.headers["retry-after"], "1");
        let kept =
            head(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nx-request-id: r\r\n\r\n", false);
        assert_eq!(kept.headers.len(), 1, "only the headers read are parsed");
        assert_eq!(kept.headers["content-type"], "text/event-stream");
    }
}
