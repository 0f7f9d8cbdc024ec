//! Reads an answer's body as a user's client would, and times it: first byte, first token
//! (first non-empty content), the gaps between content events, the last byte, output tokens, and
//! whether an event stream reached its terminator.
//!
//! A stream that ends cleanly without `[DONE]` / `message_stop` is *cut*, even though the
//! official SDKs end such a stream silently: the user got a truncated answer.

use std::time::Duration;

use bytes::Buf;

use crate::{
    metrics::RunClock,
    net::http1::{fill, BodyProgress, RawConnection, ResponseHead},
    wire::{
        gemini,
        sse_split::SseEvent,
        stream_split::{self, EventSplitter},
        usage::{self, AnthropicEvent},
        ApiFamily,
    },
};

/// How a body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// Whole: a JSON body to its end, an event stream to its terminator.
    Complete,
    /// An event stream that ended, cleanly or not, before its terminator.
    Cut,
    /// A non-stream body that broke off.
    Broken,
}

/// What reading one answer's body saw; instants are offsets on the run clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub first_byte: Option<Duration>,
    /// First non-empty content; for a non-streamed answer, when its body was whole.
    pub first_token: Option<Duration>,
    pub last_byte: Duration,
    /// Gaps between consecutive content events (inter-token latency), microseconds.
    pub gaps_us: Vec<u32>,
    /// Output tokens as the answer's `usage` reported them, else content events counted.
    pub output_tokens: u64,
    pub end: BodyEnd,
}

impl Observation {
    /// The longest gap between content events (the worst stall a reader saw).
    pub fn longest_gap(&self) -> Option<Duration> {
        self.gaps_us.iter().max().map(|us| Duration::from_micros(u64::from(*us)))
    }
}

/// Reads the body of the answer whose `head` `connection` has just read to its end (or until it
/// breaks), timing it on `clock`. Also says whether the body came to the end its framing gives
/// (a stream that broke off reads as cut, but leaves its connection unfit for another request).
pub async fn observe_raw(
    connection: &mut RawConnection,
    head: &ResponseHead,
    family: ApiFamily,
    event_stream: bool,
    clock: RunClock,
) -> (Observation, bool) {
    // SSE, or AWS event-stream frames (Bedrock's), as the answer's content type says.
    let splitter =
        event_stream.then(|| EventSplitter::for_content_type(stream_split::content_type(&head.headers)));
    let mut observer = Observer::new(family, splitter, clock);
    connection.read.advance(head.head_len);
    let mut body = BodyProgress::new(head.framing);
    let broke = loop {
        let Ok((taken, ended)) = body.take(&connection.read, |data| observer.data(&connection.read[data]))
        else {
            break true;
        };
        connection.read.advance(taken);
        if ended {
            break false;
        }
        match fill(&mut connection.stream, &mut connection.read).await {
            Ok(1..) => {}
            Ok(_) if body.ends_at_close() => break false,
            Ok(_) | Err(_) => break true,
        }
    };
    (observer.finish(broke), !broke)
}

/// What is seen of a body as its data comes, timed on the run clock.
struct Observer {
    reader: Reader,
    first_byte: Option<Duration>,
    clock: RunClock,
}

impl Observer {
    /// Reads an event stream split by `splitter`, or a whole body when there is none.
    fn new(family: ApiFamily, splitter: Option<EventSplitter>, clock: RunClock) -> Self {
        let reader = match splitter {
            Some(splitter) => Reader::Stream(StreamReader::new(family, splitter)),
            None => Reader::Whole(Vec::new(), family),
        };
        Observer { reader, first_byte: None, clock }
    }

    fn data(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let now = self.clock.elapsed();
        self.first_byte.get_or_insert(now);
        match &mut self.reader {
            Reader::Stream(stream) => stream.push(data, now),
            Reader::Whole(bytes, _) => bytes.extend_from_slice(data),
        }
    }

    /// The body ended here: `broke` when it broke off rather than coming to its end.
    fn finish(self, broke: bool) -> Observation {
        let (first_byte, last_byte) = (self.first_byte, self.clock.elapsed());
        match self.reader {
            Reader::Stream(stream) => stream.finish(first_byte, last_byte, broke),
            Reader::Whole(bytes, family) => {
                let reported = match family {
                    ApiFamily::Gemini => gemini::answer_usage(&bytes),
                    _ => usage::of_answer(&bytes),
                };
                let output_tokens = reported.and_then(|u| u.output).unwrap_or(0);
                Observation {
                    first_byte,
                    first_token: (!broke && first_byte.is_some()).then_some(last_byte),
                    last_byte,
                    gaps_us: Vec::new(),
                    output_tokens,
                    end: if broke { BodyEnd::Broken } else { BodyEnd::Complete },
                }
            }
        }
    }
}

enum Reader {
    Stream(StreamReader),
    /// A whole answer's bytes, read in its family's format.
    Whole(Vec<u8>, ApiFamily),
}

/// Follows an event stream event by event.
struct StreamReader {
    family: ApiFamily,
    splitter: EventSplitter,
    first_token: Option<Duration>,
    last_token: Option<Duration>,
    gaps_us: Vec<u32>,
    content_events: u64,
    usage_tokens: Option<u64>,
    terminated: bool,
}

impl StreamReader {
    fn new(family: ApiFamily, splitter: EventSplitter) -> Self {
        StreamReader {
            family,
            splitter,
            first_token: None,
            last_token: None,
            gaps_us: Vec::new(),
            content_events: 0,
            usage_tokens: None,
            terminated: false,
        }
    }

    fn push(&mut self, bytes: &[u8], now: Duration) {
        for event in self.splitter.push(bytes) {
            let event = SseEvent { index: 0, bytes: &event, tool_argument: None };
            if event.is_terminator() {
                self.terminated = true;
                continue;
            }
            let parsed = parse_event(self.family, &event);
            // A Gemini stream has no terminator: its last event carries the finish reason.
            self.terminated |= parsed.finished;
            if let Some(tokens) = parsed.usage_tokens {
                self.usage_tokens = Some(tokens);
            }
            if parsed.has_content {
                self.content(now);
            }
        }
    }

    fn content(&mut self, now: Duration) {
        self.content_events += 1;
        self.first_token.get_or_insert(now);
        if let Some(last) = self.last_token.replace(now) {
            let gap = now.saturating_sub(last).as_micros();
            self.gaps_us.push(u32::try_from(gap).unwrap_or(u32::MAX));
        }
    }

    fn finish(self, first_byte: Option<Duration>, last_byte: Duration, broke: bool) -> Observation {
        Observation {
            first_byte,
            first_token: self.first_token,
            last_byte,
            gaps_us: self.gaps_us,
            output_tokens: self.usage_tokens.unwrap_or(self.content_events),
            end: if self.terminated && !broke { BodyEnd::Complete } else { BodyEnd::Cut },
        }
    }
}

/// What one event carries that the measurement needs.
#[derive(Debug, Default, PartialEq, Eq)]
struct EventFacts {
    has_content: bool,
    usage_tokens: Option<u64>,
    /// It ends the answer where the family has no terminator event (Gemini).
    finished: bool,
}

/// An Anthropic event's or a Bedrock frame's facts, as classified.
fn named_event(event: AnthropicEvent) -> EventFacts {
    match event {
        AnthropicEvent::Content => EventFacts { has_content: true, ..EventFacts::default() },
        AnthropicEvent::Usage(reported) => {
            EventFacts { usage_tokens: reported.output, ..EventFacts::default() }
        }
        AnthropicEvent::Other => EventFacts::default(),
    }
}

/// Content and output usage of one event, read as the interposer's meter reads it
/// ([`crate::wire::usage`]).
fn parse_event(family: ApiFamily, event: &SseEvent<'_>) -> EventFacts {
    match family {
        ApiFamily::OpenAi | ApiFamily::Azure => {
            let chunk = usage::openai_chunk(event);
            EventFacts { has_content: chunk.has_content, usage_tokens: chunk.usage.output, finished: false }
        }
        // `message_delta` carries the cumulative output count.
        ApiFamily::Anthropic => named_event(usage::anthropic_event(event)),
        // `metadata` carries the usage.
        ApiFamily::Bedrock => named_event(usage::bedrock_event(event)),
        ApiFamily::Gemini => {
            let facts = gemini::event(event);
            EventFacts {
                has_content: facts.has_content,
                usage_tokens: facts.usage.output,
                finished: facts.finished,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// Reads `body` (frames as a test makes them) through an [`Observer`], as `observe_raw` reads
    /// a connection: an event stream of `content_type` if it has one, else a whole body.
    async fn observe<B>(
        body: B,
        family: ApiFamily,
        content_type: Option<&str>,
        clock: RunClock,
    ) -> Observation
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
    {
        let mut observer = Observer::new(family, content_type.map(EventSplitter::for_content_type), clock);
        let mut body = std::pin::pin!(body);
        let broke = loop {
            match body.frame().await {
                None => break false,
                Some(Err(_)) => break true,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        observer.data(&data);
                    }
                }
            }
        };
        observer.finish(broke)
    }
    use bytes::Bytes;
    use http_body_util::{Full, StreamBody};

    fn stream_body(
        chunks: Vec<&'static [u8]>,
    ) -> impl hyper::body::Body<Data = Bytes, Error = std::io::Error> + Unpin {
        let frames = chunks.into_iter().map(|c| Ok(hyper::body::Frame::data(Bytes::from_static(c))));
        StreamBody::new(futures_util::stream::iter(frames))
    }

    async fn read(chunks: Vec<&'static [u8]>, family: ApiFamily) -> Observation {
        observe(stream_body(chunks), family, Some("text/event-stream"), RunClock::start_now()).await
    }

    const ROLE: &[u8] = b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
    const TOKEN: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\" x\"}}]}\n\n";
    const USAGE: &[u8] = b"data: {\"choices\":[],\"usage\":{\"completion_tokens\":7}}\n\n";

    #[tokio::test]
    async fn an_openai_stream_to_done_is_complete_with_its_usage() {
        let seen = read(vec![ROLE, TOKEN, TOKEN, TOKEN, USAGE, b"data: [DONE]\n\n"], ApiFamily::OpenAi).await;
        assert_eq!(seen.end, BodyEnd::Complete);
        assert_eq!(seen.output_tokens, 7, "usage wins over counted events");
        assert_eq!(
            seen.gaps_us.len(),
            2,
            "three content events, two gaps; the empty role delta is not content"
        );
        assert!(seen.first_token.is_some() && seen.first_byte <= seen.first_token);
    }

    #[tokio::test]
    async fn a_stream_without_its_terminator_is_cut_and_counts_what_it_got() {
        let seen = read(vec![ROLE, TOKEN, TOKEN], ApiFamily::OpenAi).await;
        assert_eq!(seen.end, BodyEnd::Cut);
        assert_eq!(seen.output_tokens, 2);
    }

    #[tokio::test]
    async fn anthropic_content_and_cumulative_usage() {
        let chunks: Vec<&'static [u8]> = vec![
            b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
            b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            b"event: ping\ndata: {\"type\":\"ping\"}\n\n",
            b"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":12}}\n\n",
            b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ];
        let seen = read(chunks, ApiFamily::Anthropic).await;
        assert_eq!(seen.end, BodyEnd::Complete);
        assert_eq!(seen.output_tokens, 12);
        assert!(seen.first_token.is_some());
        assert!(seen.gaps_us.is_empty());
    }

    #[tokio::test]
    async fn a_whole_json_answer_reads_its_usage() {
        let body =
            Full::new(Bytes::from_static(b"{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5}}"));
        let seen = observe(body, ApiFamily::OpenAi, None, RunClock::start_now()).await;
        assert_eq!((seen.end, seen.output_tokens), (BodyEnd::Complete, 5));
        assert_eq!(seen.first_token, Some(seen.last_byte));
    }

    #[tokio::test]
    async fn bedrock_frames_are_read_as_frames_to_their_message_stop() {
        use crate::wire::bedrock::event;
        use serde_json::json;
        let delta =
            || event("contentBlockDelta", &json!({ "contentBlockIndex": 0, "delta": { "text": "hi" } }));
        let mut frames =
            vec![event("messageStart", &json!({ "role": "assistant" })), delta(), delta(), delta()];
        let ended = [
            event("messageStop", &json!({ "stopReason": "end_turn" })),
            event("metadata", &json!({ "usage": { "inputTokens": 9, "outputTokens": 5 }, "metrics": {} })),
        ];
        let read = |frames: Vec<Bytes>| {
            // Split across chunks mid-frame, as a socket may deliver them.
            let bytes: Vec<u8> = frames.concat();
            let (one, two) = bytes.split_at(bytes.len() / 2 + 3);
            let chunks = [Bytes::copy_from_slice(one), Bytes::copy_from_slice(two)];
            let body = StreamBody::new(futures_util::stream::iter(
                chunks.map(|c| Ok::<_, std::io::Error>(hyper::body::Frame::data(c))),
            ));
            observe(
                body,
                ApiFamily::Bedrock,
                Some("application/vnd.amazon.eventstream"),
                RunClock::start_now(),
            )
        };
        let cut = read(frames.clone()).await;
        assert_eq!((cut.end, cut.output_tokens), (BodyEnd::Cut, 3), "no messageStop: cut");
        frames.extend(ended);
        let whole = read(frames).await;
        assert_eq!((whole.end, whole.output_tokens), (BodyEnd::Complete, 5), "usage from metadata");
        assert_eq!(whole.gaps_us.len(), 2);
        assert!(whole.first_token.is_some());
    }
}
