//! Follows a chunked body (RFC 9112 §7.1) as its bytes pass through unchanged: says which bytes
//! are chunk data (for the answer's meters) and where the message ends (after the last chunk
//! and its trailers), so the connection can carry the next answer.

use std::ops::Range;

/// The longest chunk-size line (extensions included) or trailer line accepted.
const MAX_LINE: usize = 4096;

/// A chunked body that does not follow the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("malformed chunked body")
    }
}

impl std::error::Error for ChunkError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line, with what has come of it so far.
    Size(Vec<u8>),
    /// This many bytes of chunk data to go.
    Data(u64),
    /// The CRLF after a chunk's data: how many of its bytes are still to come.
    DataEnd(u8),
    /// Reading trailer lines after the last chunk: the length of the current one so far.
    Trailers(usize),
    Done,
}

/// Where a chunked body stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedTracker {
    state: State,
}

impl Default for ChunkedTracker {
    fn default() -> Self {
        ChunkedTracker { state: State::Size(Vec::new()) }
    }
}

impl ChunkedTracker {
    /// Follows `bytes`, handing where each run of chunk data lies in them to `data`; returns how
    /// many of them belong to the body (fewer than all only when it ended within them).
    pub fn feed(&mut self, bytes: &[u8], mut data: impl FnMut(Range<usize>)) -> Result<usize, ChunkError> {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            match &mut self.state {
                State::Done => break,
                State::Size(line) => {
                    let (taken, ended) = match memchr::memchr(b'\n', rest) {
                        Some(end) => (end + 1, true),
                        None => (rest.len(), false),
                    };
                    // A size line whole in this read (nearly all) is read where it lies; only one
                    // split between reads is put together (an allocation a chunk cost a 16-token
                    // stream ~5k instructions).
                    let size_line: &[u8] = if line.is_empty() && ended {
                        &rest[..taken]
                    } else {
                        line.extend_from_slice(&rest[..taken]);
                        line
                    };
                    if size_line.len() > MAX_LINE {
                        return Err(ChunkError);
                    }
                    at += taken;
                    if ended {
                        let size = match httparse::parse_chunk_size(size_line) {
                            Ok(httparse::Status::Complete((_, size))) => size,
                            _ => return Err(ChunkError),
                        };
                        self.state = if size == 0 { State::Trailers(0) } else { State::Data(size) };
                    }
                }
                State::Data(left) => {
                    let taken = rest.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    data(at..at + taken);
                    *left -= taken as u64;
                    at += taken;
                    if *left == 0 {
                        self.state = State::DataEnd(2);
                    }
                }
                State::DataEnd(left) => {
                    let expected = if *left == 2 { b'\r' } else { b'\n' };
                    if rest[0] != expected {
                        return Err(ChunkError);
                    }
                    at += 1;
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::Size(Vec::new());
                    }
                }
                State::Trailers(length) => {
                    let byte = rest[0];
                    at += 1;
                    if byte == b'\n' {
                        // A line that was empty (or held only its CR) ends the trailers.
                        self.state = if *length == 0 { State::Done } else { State::Trailers(0) };
                    } else if byte != b'\r' || *length > 0 {
                        *length += 1;
                        if *length > MAX_LINE {
                            return Err(ChunkError);
                        }
                    }
                }
            }
        }
        Ok(at)
    }

    /// Whether the body has ended.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    /// Feeds `body` in pieces cut at `cuts`; returns the data seen, the bytes taken, and whether it ended.
    fn follow(body: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, usize, bool), ChunkError> {
        let mut tracker = ChunkedTracker::default();
        let mut data = Vec::new();
        let mut taken = 0;
        let mut start = 0;
        for end in cuts.iter().copied().chain([body.len()]) {
            let read = &body[start..end];
            taken += tracker.feed(read, |piece| data.extend_from_slice(&read[piece]))?;
            start = end;
        }
        Ok((data, taken, tracker.is_done()))
    }

    #[test]
    fn data_is_told_apart_from_framing_however_the_bytes_are_cut() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT";
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..500 {
            let mut cuts: Vec<usize> =
                (0..rng.random_range(0..6)).map(|_| rng.random_range(0..=body.len())).collect();
            cuts.sort_unstable();
            let (data, taken, done) = follow(body, &cuts).unwrap();
            assert_eq!(data, b"hello, world", "cuts {cuts:?}");
            assert_eq!(taken, body.len() - 4, "the bytes after the end are not the body's");
            assert!(done);
        }
    }

    #[test]
    fn a_body_cut_short_is_not_done_and_bad_framing_is_an_error() {
        let (data, _, done) = follow(b"5\r\nhel", &[]).unwrap();
        assert_eq!((data.as_slice(), done), (&b"hel"[..], false));
        assert!(!follow(b"5\r\nhello\r\n0\r\n", &[]).unwrap().2, "the last chunk needs its blank line");
        assert!(follow(b"0\r\n\r\n", &[]).unwrap().2);
        assert_eq!(follow(b"zz\r\n", &[]), Err(ChunkError));
        assert_eq!(follow(b"5\r\nhelloXY", &[]), Err(ChunkError), "data must end with CRLF");
        // A size line over the limit, whether it came whole or split between reads.
        let long = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(MAX_LINE));
        assert_eq!(follow(long.as_bytes(), &[]), Err(ChunkError));
        assert_eq!(follow(long.as_bytes(), &[MAX_LINE / 2]), Err(ChunkError));
        let fits = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(MAX_LINE - 8));
        for cuts in [&[][..], &[100]] {
            assert_eq!(follow(fits.as_bytes(), cuts).map(|(data, ..)| data), Ok(b"hello".to_vec()));
        }
    }
}
