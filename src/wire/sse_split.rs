//! Splits a byte stream into whole SSE events (each ending in a blank line, `\n\n` or
//! `\r\n\r\n`), however the bytes were chunked on the way. Holds back only an unfinished event.

use bytes::{Bytes, BytesMut};

/// Incremental event splitter.
#[derive(Debug, Default)]
pub struct SseSplitter {
    pending: BytesMut,
}

fn event_end(bytes: &[u8]) -> Option<usize> {
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|at| at + 2);
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl SseSplitter {
    /// Adds bytes; returns the events they completed, each with its blank line.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Bytes> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = event_end(&self.pending) {
            events.push(self.pending.split_to(end).freeze());
        }
        events
    }

    /// Whatever is left when the stream ends (an unfinished event), if anything.
    pub fn finish(&mut self) -> Option<Bytes> {
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

/// One event as the stream faults see it.
#[derive(Debug, Clone, Copy)]
pub struct SseEvent<'a> {
    /// Position in the stream, from 0.
    pub index: u64,
    pub bytes: &'a [u8],
}

impl SseEvent<'_> {
    fn data(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes
            .split(|b| *b == b'\n')
            .filter_map(|line| line.strip_prefix(b"data:"))
            .map(|d| d.trim_ascii())
    }

    /// OpenAI's `data: [DONE]`.
    pub fn is_done(&self) -> bool {
        self.data().any(|d| d == b"[DONE]")
    }

    /// OpenAI's final usage chunk (`"choices":[]` with a `usage` object).
    pub fn is_usage_chunk(&self) -> bool {
        self.data().any(|d| {
            serde_json::from_slice::<serde_json::Value>(d)
                .is_ok_and(|v| v["choices"].as_array().is_some_and(Vec::is_empty) && v["usage"].is_object())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &[u8] =
        b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\nevent: x\r\ndata: {}\r\n\r\ndata: [DONE]\n\n";

    #[test]
    fn any_chunking_gives_the_same_events() {
        let whole: Vec<Bytes> = SseSplitter::default().push(STREAM);
        assert_eq!(whole.len(), 4);
        assert_eq!(&whole[2][..], b"event: x\r\ndata: {}\r\n\r\n");
        for size in 1..STREAM.len() {
            let mut splitter = SseSplitter::default();
            let events: Vec<Bytes> = STREAM.chunks(size).flat_map(|c| splitter.push(c)).collect();
            assert_eq!(events, whole, "chunks of {size}");
            assert!(splitter.finish().is_none());
        }
    }

    #[test]
    fn an_unfinished_event_is_handed_back_at_the_end() {
        let mut splitter = SseSplitter::default();
        assert_eq!(splitter.push(b"data: {}\n\ndata: {\"par").len(), 1);
        assert_eq!(splitter.finish().as_deref(), Some(&b"data: {\"par"[..]));
    }

    #[test]
    fn recognises_done_and_the_usage_chunk() {
        let event = |bytes: &'static [u8]| SseEvent { index: 0, bytes };
        assert!(event(b"data: [DONE]\n\n").is_done());
        assert!(event(b"data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n").is_usage_chunk());
        assert!(!event(b"data: {\"choices\":[{}],\"usage\":null}\n\n").is_usage_chunk());
        assert!(!event(b"data: {\"choices\":[]}\n\n").is_done());
    }
}
