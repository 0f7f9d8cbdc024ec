//! Turning away a connection accepted over the cap on open connections: a `503` with
//! `Connection: close` written at once (it fits any socket's send buffer, so no task waits on
//! it), what the client already sent read off, and the socket closed. Read off first, so the
//! close is a FIN the client reads the 503 before, not a reset that could overtake it.

use tokio::net::TcpStream;

/// What a shed connection is told.
const OVERLOADED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
    content-type: text/plain\r\ncontent-length: 44\r\n\r\nchaos: too many open connections; try again\n";

/// Answers `stream` with a 503 and closes it, without waiting on it.
pub fn shed(stream: TcpStream) {
    let _ = stream.try_write(OVERLOADED);
    let mut sent = [0u8; 4096];
    while matches!(stream.try_read(&mut sent), Ok(1..)) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_503_says_its_length_right() {
        let text = std::str::from_utf8(OVERLOADED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
    }
}
