//! A streamed answer split into whole events by what its content type says it is: SSE
//! (`text/event-stream`, [`SseSplitter`]) or AWS event-stream frames
//! (`application/vnd.amazon.eventstream`, Bedrock's; [`FrameSplitter`]). What the stream
//! faults, the meter and the load's reader count as "an event" either way. [`EventScanner`]
//! finds the same events for a reader that only looks at them (the interposer's record): SSE
//! events in place, without copying them out.

use bytes::Bytes;

use super::{
    eventstream,
    eventstream::FrameSplitter,
    sse_scan::{Scanned, SseScanner},
    sse_split::SseSplitter,
};

/// Splits one stream into its events.
#[derive(Debug)]
pub enum EventSplitter {
    Sse(SseSplitter),
    Frames(FrameSplitter),
}

impl Default for EventSplitter {
    fn default() -> Self {
        EventSplitter::Sse(SseSplitter::default())
    }
}

/// Whether a content type is a stream of events this module splits.
pub fn is_event_stream(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("text/event-stream") || media.eq_ignore_ascii_case(eventstream::CONTENT_TYPE)
}

/// The content type of a header map, if it has one that reads as text.
pub fn content_type(headers: &http::HeaderMap) -> &str {
    headers.get(http::header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

/// Whether a content type says AWS event-stream frames (else a stream is taken for SSE).
fn is_frames(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case(eventstream::CONTENT_TYPE)
}

impl EventSplitter {
    /// The splitter for a body of `content_type`: frames for an AWS event stream, else SSE.
    pub fn for_content_type(content_type: &str) -> Self {
        match is_frames(content_type) {
            true => EventSplitter::Frames(FrameSplitter::default()),
            false => EventSplitter::default(),
        }
    }

    /// Adds bytes; returns the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Bytes> {
        match self {
            EventSplitter::Sse(splitter) => splitter.push(bytes),
            EventSplitter::Frames(splitter) => splitter.push(bytes),
        }
    }

    /// Whatever is left when the stream ends (an unfinished event), if anything.
    pub fn finish(&mut self) -> Option<Bytes> {
        match self {
            EventSplitter::Sse(splitter) => splitter.finish(),
            EventSplitter::Frames(splitter) => splitter.finish(),
        }
    }
}

/// Finds one stream's events and shows each to a reader, as [`EventSplitter`] splits them.
#[derive(Debug)]
pub enum EventScanner {
    Sse(SseScanner),
    Frames(FrameSplitter),
}

impl Default for EventScanner {
    fn default() -> Self {
        EventScanner::Sse(SseScanner::default())
    }
}

impl EventScanner {
    /// The scanner for a body of `content_type`: frames for an AWS event stream, else SSE.
    pub fn for_content_type(content_type: &str) -> Self {
        match is_frames(content_type) {
            true => EventScanner::Frames(FrameSplitter::default()),
            false => EventScanner::Sse(SseScanner::default()),
        }
    }

    /// Scans the next bytes, handing each event they complete to `each` (a frame is never one
    /// line: it is not text).
    pub fn scan(&mut self, bytes: &[u8], mut each: impl FnMut(Scanned<'_>)) {
        match self {
            EventScanner::Sse(scanner) => scanner.scan(bytes, each),
            EventScanner::Frames(splitter) => {
                splitter.push(bytes).iter().for_each(|frame| each(Scanned { bytes: frame, one_line: false }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_chooses_the_framing() {
        assert!(matches!(
            EventSplitter::for_content_type("text/event-stream; charset=utf-8"),
            EventSplitter::Sse(_)
        ));
        assert!(matches!(
            EventSplitter::for_content_type("application/vnd.amazon.eventstream"),
            EventSplitter::Frames(_)
        ));
        assert!(is_event_stream("Application/Vnd.Amazon.Eventstream"));
        assert!(is_event_stream("text/event-stream"));
        assert!(!is_event_stream("application/json"));
    }

    #[test]
    fn frames_come_out_whole_from_a_frame_stream() {
        let one = eventstream::encode(&[(":event-type", "messageStart")], b"{}");
        let two = eventstream::encode(&[(":event-type", "messageStop")], b"{}");
        let stream = [one.clone(), two.clone()].concat();
        let mut splitter = EventSplitter::for_content_type(eventstream::CONTENT_TYPE);
        let frames: Vec<Bytes> = stream.chunks(3).flat_map(|c| splitter.push(c)).collect();
        assert_eq!(frames, [one.clone(), two.clone()]);
        let mut scanner = EventScanner::for_content_type(eventstream::CONTENT_TYPE);
        let mut scanned = Vec::new();
        stream.chunks(3).for_each(|c| scanner.scan(c, |frame| scanned.push(frame.bytes.to_vec())));
        assert_eq!(scanned, [one.to_vec(), two.to_vec()]);
    }
}
