//! Splits a byte stream into whole SSE events (each ending in a blank line, `\n\n` or
//! `\r\n\r\n`), however the bytes were chunked on the way. Holds back only an unfinished event.
//! [`SseEvent`] views one event — an SSE event, or an AWS event-stream frame (Bedrock's), whose
//! name is its `:event-type` and whose data is its payload.

use bytes::{Bytes, BytesMut};

use super::eventstream::Frame;

/// Incremental event splitter: one pass over each byte (it remembers how far it has looked),
/// lines ending in LF or CRLF, an event ending at the first empty line.
#[derive(Debug, Default)]
pub struct SseSplitter {
    pending: BytesMut,
    /// How far into `pending` has been scanned.
    scanned: usize,
    /// Where the line being scanned starts.
    line_start: usize,
}

impl SseSplitter {
    /// Adds bytes; returns the events they completed, each with its blank line.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Bytes> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(offset) = memchr::memchr(b'\n', &self.pending[self.scanned..]) {
            let newline = self.scanned + offset;
            let line = &self.pending[self.line_start..newline];
            let empty = line.is_empty() || line == b"\r";
            self.scanned = newline + 1;
            self.line_start = self.scanned;
            if empty {
                events.push(self.pending.split_to(self.scanned).freeze());
                self.scanned = 0;
                self.line_start = 0;
            }
        }
        events
    }

    /// Whatever is left when the stream ends (an unfinished event), if anything.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.scanned = 0;
        self.line_start = 0;
        (!self.pending.is_empty()).then(|| self.pending.split().freeze())
    }
}

/// The lines of `bytes` split at each `\n` (a `\r` before it stays), found with `memchr`: what
/// `bytes.split(|b| *b == b'\n')` gives, without a step a byte.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]).map(move |end| {
        let line = &bytes[start..end];
        start = end + 1;
        line
    })
}

/// Whether an event's `line` ends its stream: `data: [DONE]`, or the event's first `event:` line
/// (`named` says one was seen) naming a terminal event.
pub(super) fn terminal_line(line: &[u8], named: &mut bool) -> bool {
    if let Some(data) = line.strip_prefix(b"data:") {
        return data.trim_ascii() == b"[DONE]";
    }
    match line.strip_prefix(b"event:").filter(|_| !*named) {
        Some(name) => {
            *named = true;
            is_terminal_name(name.trim_ascii())
        }
        None => false,
    }
}

/// One event as the stream faults see it.
#[derive(Debug, Clone, Copy)]
pub struct SseEvent<'a> {
    /// Position in the stream, from 0.
    pub index: u64,
    pub bytes: &'a [u8],
    /// Position among the events that carry a fragment of a tool call's arguments, from 0, when
    /// this event carries one (see [`SseEvent::carries_tool_arguments`]); set by the stream
    /// that counts them.
    pub tool_argument: Option<u64>,
}

impl<'a> SseEvent<'a> {
    /// The event as an AWS event-stream frame, when it is one (SSE text never starts with NUL,
    /// a frame under 16 MiB always does).
    pub fn frame(&self) -> Option<Frame<'a>> {
        (self.bytes.first() == Some(&0)).then(|| Frame::decode(self.bytes).ok()).flatten()
    }

    /// Each `data:` line's value; a frame's payload.
    pub fn data(&self) -> impl Iterator<Item = &'a [u8]> {
        let payload = self.frame().map(|frame| frame.payload);
        let lines = payload.is_none().then(|| {
            lines(self.bytes).filter_map(|line| line.strip_prefix(b"data:")).map(|d| d.trim_ascii())
        });
        payload.into_iter().chain(lines.into_iter().flatten())
    }

    /// OpenAI's `data: [DONE]`.
    pub fn is_done(&self) -> bool {
        self.data().any(|d| d == b"[DONE]")
    }

    /// The event's name (`event:` line; a frame's `:event-type` or `:exception-type`), if it
    /// has one.
    pub fn name(&self) -> Option<&'a [u8]> {
        if let Some(frame) = self.frame() {
            return frame.event_type().map(str::as_bytes);
        }
        lines(self.bytes).find_map(|line| line.strip_prefix(b"event:")).map(|n| n.trim_ascii())
    }

    /// The end of a provider's stream: OpenAI's `[DONE]`, Anthropic's `message_stop`, the
    /// terminal events of OpenAI's Responses API, and Bedrock's `messageStop` (its `metadata`,
    /// with the usage, follows it). What [`SseEvent::is_done`] and [`SseEvent::name`] would
    /// say, in one pass over the event's lines (asked of every event a stream carries).
    pub fn is_terminator(&self) -> bool {
        if let Some(frame) = self.frame() {
            return frame.payload == b"[DONE]"
                || frame.event_type().is_some_and(|t| is_terminal_name(t.as_bytes()));
        }
        let mut named = false;
        // Most events are one line and the blank line after it: that line is read alone.
        let one_line = memchr::memchr(b'\n', self.bytes)
            .filter(|end| matches!(&self.bytes[end + 1..], b"" | b"\n" | b"\r\n"));
        match one_line {
            Some(end) => terminal_line(&self.bytes[..end], &mut named),
            None => lines(self.bytes).any(|line| terminal_line(line, &mut named)),
        }
    }

    /// Whether the event carries a fragment of a tool call's arguments: an OpenAI chunk whose
    /// `delta.tool_calls` has a non-empty `function.arguments`, an Anthropic `input_json_delta`,
    /// a Responses API `response.function_call_arguments.delta`, a Bedrock `contentBlockDelta`
    /// with `delta.toolUse.input`. Most text events are told apart by a byte search, without
    /// parsing.
    pub fn carries_tool_arguments(&self) -> bool {
        let has = |needle: &[u8]| self.bytes.windows(needle.len()).any(|w| w == needle);
        match self.name() {
            Some(b"content_block_delta") if has(b"input_json_delta") => self.data().any(|d| {
                serde_json::from_slice::<serde_json::Value>(d)
                    .is_ok_and(|v| v["delta"]["type"] == "input_json_delta")
            }),
            Some(b"response.function_call_arguments.delta") => true,
            Some(b"contentBlockDelta") if has(b"toolUse") => self.data().any(|d| {
                serde_json::from_slice::<serde_json::Value>(d)
                    .is_ok_and(|v| v["delta"]["toolUse"]["input"].as_str().is_some_and(|i| !i.is_empty()))
            }),
            Some(_) => false,
            None if has(b"\"tool_calls\"") => {
                self.data().any(|d| {
                    serde_json::from_slice::<serde_json::Value>(d).is_ok_and(|v| {
                        v["choices"].as_array().into_iter().flatten().any(|choice| {
                            choice["delta"]["tool_calls"].as_array().into_iter().flatten().any(|call| {
                                call["function"]["arguments"].as_str().is_some_and(|a| !a.is_empty())
                            })
                        })
                    })
                })
            }
            None => false,
        }
    }

    /// OpenAI's final usage chunk (`"choices":[]` with a `usage` object).
    pub fn is_usage_chunk(&self) -> bool {
        self.data().any(|d| {
            serde_json::from_slice::<serde_json::Value>(d)
                .is_ok_and(|v| v["choices"].as_array().is_some_and(Vec::is_empty) && v["usage"].is_object())
        })
    }
}

/// The names of the events that end a stream.
fn is_terminal_name(name: &[u8]) -> bool {
    matches!(
        name,
        b"message_stop"
            | b"response.completed"
            | b"response.incomplete"
            | b"response.failed"
            | b"messageStop"
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const STREAM: &[u8] =
        b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\nevent: x\r\ndata: {}\r\n\r\ndata: [DONE]\n\n";

    #[test]
    fn lines_are_what_splitting_at_each_newline_gives() {
        for bytes in
            [&b""[..], b"\n", b"a", b"data: x\n\n", b"event: a\r\ndata: b\r\n\r\n", b"\n\nx\ny", STREAM]
        {
            let split: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
            assert_eq!(lines(bytes).collect::<Vec<_>>(), split, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

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
    fn mixed_line_endings_still_split_between_events() {
        let events = SseSplitter::default().push(b"data: a\n\r\ndata: b\r\n\ndata: c\n\n");
        let events: Vec<&[u8]> = events.iter().map(|e| &e[..]).collect();
        assert_eq!(events, [&b"data: a\n\r\n"[..], b"data: b\r\n\n", b"data: c\n\n"]);
    }

    #[test]
    fn a_long_stream_splits_in_linear_time() {
        let event = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";
        let stream: Vec<u8> = event.iter().copied().cycle().take(event.len() * 40_000).collect();
        let started = std::time::Instant::now();
        let mut splitter = SseSplitter::default();
        let count: usize = stream.chunks(65_536).map(|c| splitter.push(c).len()).sum();
        assert_eq!(count, 40_000);
        // Quadratic rescans took seconds here; a linear scan takes milliseconds even in debug.
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn terminators_of_both_families() {
        let event = |bytes: &'static [u8]| SseEvent { index: 0, bytes, tool_argument: None };
        assert!(event(b"data:[DONE]\n\n").is_terminator());
        assert!(event(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n").is_terminator());
        assert!(
            event(b"event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n").is_terminator()
        );
        assert!(!event(b"event: response.output_text.done\ndata: {}\n\n").is_terminator());
        assert!(
            !event(b"data: {\"content\":\"data: [DONE]\"}\n\n").is_terminator(),
            "inside JSON is not the end"
        );
    }

    /// `is_terminator` as it reads: the event is done, or its name is a terminal one.
    fn terminator_by_definition(event: &SseEvent<'_>) -> bool {
        event.is_done() || event.name().is_some_and(is_terminal_name)
    }

    #[test]
    fn the_terminator_is_found_on_any_line_and_only_the_first_event_line_names() {
        let event = |bytes: &'static [u8]| SseEvent { index: 0, bytes, tool_argument: None };
        assert!(event(b"id: 9\r\ndata:  [DONE] \r\n\r\n").is_terminator());
        assert!(event(b"data: {}\ndata: [DONE]").is_terminator(), "the last line, unended");
        assert!(event(b"event: message_stop").is_terminator());
        assert!(!event(b"event: ping\nevent: message_stop\n\n").is_terminator(), "named ping");
        assert!(!event(b": data: [DONE]\n\n").is_terminator(), "a comment");
        assert!(!event(b"data: [DONE]x\n\n").is_terminator());
        assert!(!event(b"").is_terminator());
    }

    const FIELDS: &[&[u8]] = &[b"data:", b"event:", b": ", b"id:", b""];
    const VALUES: &[&[u8]] = &[
        b"[DONE]",
        b" [DONE] ",
        b"message_stop",
        b" messageStop",
        b"response.failed\r",
        b"ping",
        b"{}",
        b"",
    ];
    const ENDS: &[&[u8]] = &[b"\n", b"\r\n", b""];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// The one-pass check says what `is_done` and `name` say, for lines made of the pieces
        /// that matter.
        #[test]
        fn the_terminator_check_agrees_with_its_definition(
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(FIELDS),
                    proptest::sample::select(VALUES),
                    proptest::sample::select(ENDS),
                ),
                0..6,
            ),
        ) {
            let bytes: Vec<u8> = lines.iter().flat_map(|(a, b, c)| [*a, *b, *c].concat()).collect();
            let event = SseEvent { index: 0, bytes: &bytes, tool_argument: None };
            prop_assert_eq!(event.is_terminator(), terminator_by_definition(&event));
        }
    }

    #[test]
    fn an_unfinished_event_is_handed_back_at_the_end() {
        let mut splitter = SseSplitter::default();
        assert_eq!(splitter.push(b"data: {}\n\ndata: {\"par").len(), 1);
        assert_eq!(splitter.finish().as_deref(), Some(&b"data: {\"par"[..]));
    }

    #[test]
    fn tells_tool_argument_fragments_from_the_rest() {
        let event = |bytes: &'static [u8]| SseEvent { index: 0, bytes, tool_argument: None };
        let openai = b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}}]}\n\n";
        assert!(event(openai).carries_tool_arguments());
        let header = b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n";
        assert!(!event(header).carries_tool_arguments(), "the call's first delta has no arguments yet");
        let anthropic = b"event: content_block_delta\ndata: {\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n";
        assert!(event(anthropic).carries_tool_arguments());
        let text = b"event: content_block_delta\ndata: {\"delta\":{\"type\":\"text_delta\",\"text\":\"input_json_delta\"}}\n\n";
        assert!(!event(text).carries_tool_arguments(), "a text that names it is not one");
        assert!(!event(b"data: {\"choices\":[{\"delta\":{\"content\":\"tool_calls\"}}]}\n\n")
            .carries_tool_arguments());
    }

    #[test]
    fn a_bedrock_frame_is_named_by_its_event_type_and_read_from_its_payload() {
        let stop =
            crate::wire::bedrock::event("messageStop", &serde_json::json!({ "stopReason": "end_turn" }));
        let view = SseEvent { index: 0, bytes: &stop, tool_argument: None };
        assert_eq!(view.name(), Some(&b"messageStop"[..]));
        assert!(view.is_terminator());
        assert_eq!(view.data().collect::<Vec<_>>(), [&br#"{"stopReason":"end_turn"}"#[..]]);
        let tool = crate::wire::bedrock::event(
            "contentBlockDelta",
            &serde_json::json!({ "contentBlockIndex": 0, "delta": { "toolUse": { "input": "{\"a" } } }),
        );
        assert!(SseEvent { index: 0, bytes: &tool, tool_argument: None }.carries_tool_arguments());
        let text = crate::wire::bedrock::event(
            "contentBlockDelta",
            &serde_json::json!({ "contentBlockIndex": 0, "delta": { "text": "toolUse" } }),
        );
        assert!(!SseEvent { index: 0, bytes: &text, tool_argument: None }.carries_tool_arguments());
        let mut torn = stop.to_vec();
        torn[20] ^= 1;
        assert_eq!(
            SseEvent { index: 0, bytes: &torn, tool_argument: None }.name(),
            None,
            "a bad CRC is no frame"
        );
    }

    #[test]
    fn recognises_done_and_the_usage_chunk() {
        let event = |bytes: &'static [u8]| SseEvent { index: 0, bytes, tool_argument: None };
        assert!(event(b"data: [DONE]\n\n").is_done());
        assert!(event(b"data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n").is_usage_chunk());
        assert!(!event(b"data: {\"choices\":[{}],\"usage\":null}\n\n").is_usage_chunk());
        assert!(!event(b"data: {\"choices\":[]}\n\n").is_done());
    }
}
