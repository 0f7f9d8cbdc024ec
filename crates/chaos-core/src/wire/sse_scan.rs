//! Finds the events of an SSE stream where they lie, however its bytes were read: a whole event
//! inside one read is shown as a slice of that read, with no copy and no allocation; only an
//! event begun in an earlier read is put together (its bytes so far kept in one buffer, reused).
//! One `memchr` pass over each read's newlines. The events are the ones
//! [`super::sse_split::SseSplitter`] gives: lines ending in LF or CRLF, an event ending at its
//! first empty line, each with that line.

use super::sse_split::{terminal_line, SseEvent};

/// What the line being scanned holds so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Line {
    #[default]
    Empty,
    /// A lone `\r`: the line is still empty if `\n` comes next.
    CarriageReturn,
    Text,
}

impl Line {
    /// The line once `more` of it has come.
    fn and(self, more: &[u8]) -> Line {
        match (self, more) {
            (line, b"") => line,
            (Line::Empty, b"\r") => Line::CarriageReturn,
            _ => Line::Text,
        }
    }

    /// Whether the line, ending with `last` before its `\n`, is an empty line.
    fn ends_empty(self, last: &[u8]) -> bool {
        matches!((self, last), (Line::Empty, b"" | b"\r") | (Line::CarriageReturn, b""))
    }
}

/// Incremental event finder over the reads of one stream.
#[derive(Debug, Default)]
pub struct SseScanner {
    /// The unfinished event's bytes from earlier reads.
    pending: Vec<u8>,
    /// The line being scanned, as far as the earlier reads went.
    line: Line,
    /// The lines of the unfinished event that ended before its blank line (none empty).
    text_lines: usize,
}

/// An event the scanner found: its bytes, blank line included, and whether they are one line
/// and that blank line (most events are), which a reader can then take without a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned<'a> {
    pub bytes: &'a [u8],
    pub one_line: bool,
}

impl Scanned<'_> {
    /// Whether the event ends its stream, as [`SseEvent::is_terminator`] says: a one-line event's
    /// line is found by taking its blank line off, not by a search for its end (asked of every
    /// event the interposer relays).
    pub fn is_terminator(&self) -> bool {
        match self.one_line.then(|| text_line(self.bytes)).flatten() {
            // A NUL first is an event-stream frame's, read as one.
            Some(line) if self.bytes.first() != Some(&0) => terminal_line(line, &mut false),
            _ => SseEvent { index: 0, bytes: self.bytes, tool_argument: None }.is_terminator(),
        }
    }
}

/// The line of a one-line event: its bytes without the blank line (`\n` or `\r\n`) and the
/// line's own `\n`.
fn text_line(event: &[u8]) -> Option<&[u8]> {
    let line = event.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_suffix(b"\n")
}

impl SseScanner {
    /// Scans the next read, handing each event it completes to `each` (with its blank line).
    pub fn scan(&mut self, bytes: &[u8], mut each: impl FnMut(Scanned<'_>)) {
        let mut event_start = 0;
        let mut line_start = 0;
        let mut line = self.line;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            let empty = line.ends_empty(&bytes[line_start..newline]);
            line = Line::Empty;
            line_start = newline + 1;
            if !empty {
                self.text_lines += 1;
                continue;
            }
            let one_line = std::mem::take(&mut self.text_lines) == 1;
            let event = &bytes[event_start..line_start];
            if self.pending.is_empty() {
                each(Scanned { bytes: event, one_line });
            } else {
                self.pending.extend_from_slice(event);
                each(Scanned { bytes: &self.pending, one_line });
                self.pending.clear();
            }
            event_start = line_start;
        }
        self.line = line.and(&bytes[line_start..]);
        self.pending.extend_from_slice(&bytes[event_start..]);
    }

    /// The bytes of an event begun but not ended.
    pub fn unfinished(&self) -> &[u8] {
        &self.pending
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;
    use crate::wire::sse_split::SseSplitter;

    /// The events of `reads`, fed in turn, with what is left unfinished.
    fn scanned(reads: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut scanner = SseScanner::default();
        let mut events = Vec::new();
        for read in reads {
            scanner.scan(read, |event| events.push(event.bytes.to_vec()));
        }
        (events, scanner.unfinished().to_vec())
    }

    /// What the splitter gives for the same reads (the reference).
    fn split(reads: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut splitter = SseSplitter::default();
        let events = reads.iter().flat_map(|read| splitter.push(read)).map(|e| e.to_vec()).collect();
        (events, splitter.finish().map(|rest: Bytes| rest.to_vec()).unwrap_or_default())
    }

    const STREAM: &[u8] = b": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\r\ndata: {}\r\n\r\n\n\r\n\
        id: 3\ndata: one\ndata: two\n\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n\
        data: [DONE]\n\ndata: {\"par";

    #[test]
    fn finds_each_event_with_its_blank_line_and_keeps_the_unfinished_one() {
        let (events, rest) = scanned(&[STREAM]);
        let events: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
        assert_eq!(
            events,
            [
                &b": keep-alive\n\n"[..],
                b"data: {\"a\":1}\n\n",
                b"event: x\r\ndata: {}\r\n\r\n",
                b"\n",
                b"\r\n",
                b"id: 3\ndata: one\ndata: two\n\n",
                b"event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
                b"data: [DONE]\n\n",
            ]
        );
        assert_eq!(rest, b"data: {\"par");
    }

    #[test]
    fn a_cut_at_every_byte_gives_the_same_events() {
        let whole = scanned(&[STREAM]);
        for at in 0..=STREAM.len() {
            let (head, tail) = STREAM.split_at(at);
            assert_eq!(scanned(&[head, tail]), whole, "cut at {at}");
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(scanned(&bytes), whole, "one byte a read");
    }

    #[test]
    fn a_crlf_blank_line_split_between_its_cr_and_lf_still_ends_the_event() {
        let (events, rest) = scanned(&[b"data: a\r\n\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(events, [b"data: a\r\n\r\n".to_vec(), b"data: b\r\n\r\n".to_vec()]);
        assert!(rest.is_empty());
        let (events, _) = scanned(&[b"data: a\n\r", b"x\n\n"]);
        assert_eq!(events, [b"data: a\n\rx\n\n".to_vec()], "a line of \\rx is not empty");
    }

    #[test]
    fn a_terminator_split_across_reads_comes_whole() {
        let (events, _) = scanned(&[b"data: {}\n\ndata: [DO", b"NE]", b"\n", b"\n"]);
        assert_eq!(events, [b"data: {}\n\n".to_vec(), b"data: [DONE]\n\n".to_vec()]);
    }

    #[test]
    fn each_event_says_whether_it_is_one_line_and_a_terminator_is_told_either_way() {
        let mut scanner = SseScanner::default();
        let mut events = Vec::new();
        // Cut inside the terminator: the event put together from two reads is one line too.
        for read in [&STREAM[..STREAM.len() - 20], &STREAM[STREAM.len() - 20..]] {
            scanner.scan(read, |event| {
                events.push((event.bytes.to_vec(), event.one_line, event.is_terminator()))
            });
        }
        let seen: Vec<(&[u8], bool, bool)> = events.iter().map(|(b, o, t)| (&b[..], *o, *t)).collect();
        assert_eq!(
            seen,
            [
                (&b": keep-alive\n\n"[..], true, false),
                (b"data: {\"a\":1}\n\n", true, false),
                (b"event: x\r\ndata: {}\r\n\r\n", false, false),
                (b"\n", false, false),
                (b"\r\n", false, false),
                (b"id: 3\ndata: one\ndata: two\n\n", false, false),
                (b"event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n", false, true),
                (b"data: [DONE]\n\n", true, true),
            ]
        );
        let crlf = Scanned { bytes: b"data:  [DONE] \r\n\r\n", one_line: true };
        assert!(crlf.is_terminator());
        let not_done = Scanned { bytes: b"data: [DONE]x\n\n", one_line: true };
        assert!(!not_done.is_terminator());
    }

    #[test]
    fn an_event_inside_one_read_is_handed_over_in_place() {
        let read = b"data: 1\n\ndata: 2\n\n";
        let mut scanner = SseScanner::default();
        let mut places = Vec::new();
        scanner.scan(read, |event| places.push(event.bytes.as_ptr_range()));
        let base = read.as_ptr_range();
        assert!(places.iter().all(|place| base.start <= place.start && place.end <= base.end), "not copied");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any stream of SSE-ish bytes, read in any pieces, is split as the splitter splits it.
        #[test]
        fn agrees_with_the_splitter_for_any_bytes_and_reads(
            stream in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'd'), Just(b':'), any::<u8>()], 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut reads = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                reads.push(&stream[from..cut]);
                from = cut;
            }
            prop_assert_eq!(scanned(&reads), split(&reads));
            // Each event says whether it is one line, and is told a terminator as its bytes are.
            let mut scanner = SseScanner::default();
            let mut events = Vec::new();
            for read in &reads {
                scanner.scan(read, |event| {
                    events.push((event.bytes.to_vec(), event.one_line, event.is_terminator()))
                });
            }
            for (bytes, one_line, terminator) in events {
                let text_lines = bytes.split(|b| *b == b'\n').filter(|l| !matches!(*l, b"" | b"\r")).count();
                prop_assert_eq!(one_line, text_lines == 1);
                let event = SseEvent { index: 0, bytes: &bytes, tool_argument: None };
                prop_assert_eq!(terminator, event.is_terminator());
            }
        }
    }
}
