//! The byte-level HTTP/1.1 of the interposer's fast path (RFC 9112): request and response heads
//! read with `httparse`, how each message's body is framed, heads passed on as they came or
//! rewritten without hop-by-hop headers, and chunked bodies followed to their end. It is a
//! subset on purpose: whatever is outside it (HTTP/1.0, a chunked or `Expect`ing request,
//! upgrades, HTTP/2, malformed heads) is left to hyper, which serves the connection from there.
//! The load generator speaks it as a client ([`ask`]).

mod body;
mod chunked;
mod client;
mod request;
mod response;

pub use body::{BodyProgress, DataRuns};
pub use chunked::{ChunkError, ChunkedTracker};
pub use client::{ask, fill, KeptConnections, Origin, RawConnection, Readiness, READ_SIZE};
pub use request::{request, RequestHead};
pub use response::{rechunked, response, Framing, ResponseHead};

use http::{HeaderMap, HeaderName, HeaderValue};

/// The most headers a head may carry on the fast path (hyper's own limit is higher; a head
/// with more goes to hyper).
pub const MAX_HEADERS: usize = 64;

/// The longest head read on the fast path; a longer one goes to hyper, which refuses it.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What parsing a head from the bytes read so far gives.
#[derive(Debug)]
pub enum Parse<T> {
    Complete(T),
    /// More bytes are needed.
    Partial,
    /// Outside the fast path's subset (or malformed): hyper's to serve, from these same bytes.
    Beyond,
}

/// Headers that describe one connection, not the message; never passed on (RFC 9110 §7.6.1).
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// A bit for each length of name in `names` (those under 64 bytes): a name of no length in it
/// is none of them, told without comparing it to each.
const fn length_mask(names: &[&str]) -> u64 {
    let mut mask = 0;
    let mut at = 0;
    while at < names.len() {
        mask |= length_bit(names[at]);
        at += 1;
    }
    mask
}

/// The bit of `name`'s length in a [`length_mask`] (none for a name of 64 bytes or more).
const fn length_bit(name: &str) -> u64 {
    match name.len() {
        length @ 0..64 => 1 << length,
        _ => 0,
    }
}

/// Whether `name` is one of [`HOP_BY_HOP`], in any case.
pub fn is_hop_by_hop(name: &str) -> bool {
    const LENGTHS: u64 = length_mask(&HOP_BY_HOP);
    LENGTHS & length_bit(name) != 0 && HOP_BY_HOP.iter().any(|hop| name.eq_ignore_ascii_case(hop))
}

/// The parsed headers as a map (only those named in `only`, when given), or `None` if one is
/// not a valid name or value.
fn header_map(headers: &[httparse::Header<'_>], only: Option<&[HeaderName]>) -> Option<HeaderMap> {
    let mut map = HeaderMap::with_capacity(only.map_or(headers.len(), <[_]>::len));
    // Each wanted name spelled out once, not once for every header it is compared with.
    let wanted: smallvec::SmallVec<[&str; 8]> =
        only.unwrap_or_default().iter().map(HeaderName::as_str).collect();
    let lengths = length_mask(&wanted);
    for header in headers {
        let name = match only {
            Some(_) if lengths & length_bit(header.name) == 0 => continue,
            Some(only) => match wanted.iter().position(|name| name.eq_ignore_ascii_case(header.name)) {
                Some(index) => only[index].clone(),
                None => continue,
            },
            None => HeaderName::from_bytes(header.name.as_bytes()).ok()?,
        };
        map.append(name, HeaderValue::from_bytes(header.value).ok()?);
    }
    Some(map)
}

/// The head's bytes without its hop-by-hop headers: its first line as it came, then the other
/// headers; `None` when it has none to leave out (it is passed on as it came).
fn without_hop_by_hop(head: &[u8], headers: &[httparse::Header<'_>]) -> Option<Vec<u8>> {
    if !headers.iter().any(|header| is_hop_by_hop(header.name)) {
        return None;
    }
    Some(head_without(head, headers, is_hop_by_hop, b""))
}

/// The head's bytes with the headers `leave_out` names left out: its first line as it came, the
/// other headers in order, then `added` (whole header lines) and the blank line.
fn head_without(
    head: &[u8],
    headers: &[httparse::Header<'_>],
    leave_out: impl Fn(&str) -> bool,
    added: &[u8],
) -> Vec<u8> {
    let first_line = memchr::memchr(b'\n', head).map_or(head.len(), |end| end + 1);
    let mut rewritten = Vec::with_capacity(head.len() + added.len());
    rewritten.extend_from_slice(&head[..first_line]);
    for header in headers.iter().filter(|header| !leave_out(header.name)) {
        rewritten.extend_from_slice(header.name.as_bytes());
        rewritten.extend_from_slice(b": ");
        rewritten.extend_from_slice(header.value);
        rewritten.extend_from_slice(b"\r\n");
    }
    rewritten.extend_from_slice(added);
    rewritten.extend_from_slice(b"\r\n");
    rewritten
}

/// A whole response with a body of known length, as hyper would write it: status line, the
/// headers given, `content-length` and `date`, then the body.
pub fn whole_response(status: u16, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let reason =
        http::StatusCode::from_u16(status).ok().and_then(|code| code.canonical_reason()).unwrap_or("");
    let mut bytes = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    bytes.extend_from_slice(format!("content-length: {}\r\ndate: {date}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// Whether a `Connection` header's tokens include `close`.
fn says_close(headers: &[httparse::Header<'_>]) -> bool {
    headers.iter().filter(|header| header.name.eq_ignore_ascii_case("connection")).any(|header| {
        header
            .value
            .split(|&byte| byte == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

/// The one `content-length` of a head: `Ok(None)` without one, `Err` when it is malformed or
/// given twice with different values.
fn content_length(headers: &[httparse::Header<'_>]) -> Result<Option<u64>, ()> {
    let mut length = None;
    for header in headers.iter().filter(|header| header.name.eq_ignore_ascii_case("content-length")) {
        let value = std::str::from_utf8(header.value).map_err(|_| ())?.trim();
        if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(());
        }
        let value: u64 = value.parse().map_err(|_| ())?;
        if length.is_some_and(|seen| seen != value) {
            return Err(());
        }
        length = Some(value);
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed<'h>(head: &'h [u8], storage: &'h mut [httparse::Header<'h>]) -> &'h [httparse::Header<'h>] {
        let mut request = httparse::Request::new(storage);
        request.parse(head).unwrap();
        request.headers
    }

    #[test]
    fn a_name_is_told_hop_by_hop_in_any_case_and_by_its_length_first() {
        for name in HOP_BY_HOP {
            assert!(is_hop_by_hop(name) && is_hop_by_hop(&name.to_ascii_uppercase()), "{name}");
        }
        // Lengths of hop-by-hop names (10: `connection`, 2: `te`) but other names.
        for name in ["x-api-keys", "tz", "content-type", "", &"t".repeat(70)] {
            assert!(!is_hop_by_hop(name), "{name}");
        }
        let wanted = [http::header::CONTENT_TYPE, http::header::RETRY_AFTER];
        let head =
            b"POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Type: b\r\nRetry-After: 2\r\nx-retry-after: 3\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let map = header_map(parsed(head, &mut storage), Some(&wanted)).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["content-type"], "b");
        assert_eq!(map["retry-after"], "2");
    }

    #[test]
    fn hop_by_hop_headers_are_left_out_and_the_rest_kept_in_order() {
        let head = b"POST /v1/x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nx-api-key: k\r\nTE: trailers\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let headers = parsed(head, &mut storage);
        let rewritten = without_hop_by_hop(head, headers).unwrap();
        assert_eq!(rewritten, b"POST /v1/x HTTP/1.1\r\nHost: a\r\nx-api-key: k\r\n\r\n");
        let clean = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        assert_eq!(without_hop_by_hop(clean, parsed(clean, &mut storage)), None);
    }

    #[test]
    fn a_whole_response_reads_back_as_it_was_written() {
        let bytes = whole_response(502, &[("content-type", "application/json".into())], b"{}");
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let mut parsed = httparse::Response::new(&mut storage);
        let head = match parsed.parse(&bytes).unwrap() {
            httparse::Status::Complete(head) => head,
            httparse::Status::Partial => panic!("incomplete"),
        };
        assert_eq!((parsed.code, parsed.reason), (Some(502), Some("Bad Gateway")));
        assert_eq!(content_length(parsed.headers), Ok(Some(2)));
        assert_eq!(&bytes[head..], b"{}");
    }

    #[test]
    fn close_is_a_token_of_connection_and_lengths_must_agree() {
        let head = b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let headers = parsed(head, &mut storage);
        assert!(says_close(headers));
        assert_eq!(content_length(headers), Ok(Some(3)));
        let head = b"GET / HTTP/1.1\r\nConnection: closed\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let headers = parsed(head, &mut storage);
        assert!(!says_close(headers));
        assert_eq!(content_length(headers), Err(()));
        let head = b"GET / HTTP/1.1\r\nContent-Length: +3\r\n\r\n";
        let mut storage = [httparse::EMPTY_HEADER; 8];
        assert_eq!(content_length(parsed(head, &mut storage)), Err(()));
    }
}
