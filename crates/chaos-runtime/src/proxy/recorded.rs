//! The answer's body on its way back to the target, carrying the attempt's record: it counts
//! bytes, notes the first byte, the first token (of a metered stream) and the end, and — for an
//! event stream — whether the terminator (`[DONE]`, `message_stop`, or Gemini's event with a
//! `finishReason`) went through. An upstream's
//! successful answer also passes a [`UsageMeter`], so the attempt is billed for what it got. The
//! record is written when the body ends or is dropped, so a stream the target abandons is
//! recorded as incomplete, and billed.
//!
//! Cheap on the way through, since every event of every stream passes here: the events are
//! found where they lie in each read ([`EventScanner`]), the record is noted once a read, and
//! the clock read for the first byte and the first token only.

use std::{
    ops::Range,
    pin::Pin,
    task::{ready, Context, Poll},
    time::SystemTime,
};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use hyper::body::{Body, Frame};
use tokio::time::Instant;

use super::{attempt::AttemptGuard, meter::UsageMeter};
use crate::{
    metrics::AttemptOutcome,
    net::BoxError,
    wire::{
        retry_after::server_wait,
        stream_split::{self, EventScanner},
        ApiFamily,
    },
};

/// `inner` with the attempt's record riding along.
pub struct RecordedBody<B> {
    inner: B,
    watch: AnswerWatch,
}

impl<B> RecordedBody<B> {
    pub fn new(inner: B, guard: AttemptGuard, arrived: Instant, event_stream: bool) -> Self {
        RecordedBody::watched(inner, AnswerWatch::new(guard, arrived, event_stream))
    }

    /// `inner`, noted by `watch` as it goes.
    pub fn watched(inner: B, watch: AnswerWatch) -> Self {
        RecordedBody { inner, watch }
    }
}

/// What is noted of an answer's body as it goes back to the target, whoever carries it (this
/// body for hyper, or the byte-level path): bytes, the first byte and token, the end, and
/// whether an event stream's terminator went through. Dropped, it bills the attempt for what
/// went back.
pub struct AnswerWatch {
    guard: AttemptGuard,
    arrived: Instant,
    /// Finds an event stream's events, to look for its terminator; `None` for other bodies.
    events: Option<EventScanner>,
    terminated: bool,
    /// Bills the attempt from the answer; `None` when the guard already knows (nothing billed).
    meter: Option<UsageMeter>,
}

impl AnswerWatch {
    pub fn new(guard: AttemptGuard, arrived: Instant, event_stream: bool) -> Self {
        let events = event_stream.then(EventScanner::default);
        AnswerWatch { guard, arrived, events, terminated: false, meter: None }
    }

    /// The watch of an answer whose head goes back now: the wait it asks (`retry-after`) and
    /// when its head went are noted.
    pub fn head_going_back(
        mut guard: AttemptGuard,
        arrived: Instant,
        headers: &HeaderMap,
        event_stream: bool,
    ) -> Self {
        guard.asked(server_wait(headers, SystemTime::now()));
        guard.head(arrived.elapsed());
        let mut watch = AnswerWatch::new(guard, arrived, false);
        let content_type = stream_split::content_type(headers);
        watch.events = event_stream.then(|| EventScanner::for_content_type(content_type));
        watch
    }

    /// The watch of an upstream's answer whose head goes back now, whichever path carries it: its
    /// status, the wait it asks and when its head went are noted, and a 2xx is billed from its
    /// `usage` as it passes.
    pub fn upstream_answer(
        mut guard: AttemptGuard,
        arrived: Instant,
        answer: (StatusCode, &HeaderMap),
        family: ApiFamily,
        prompt_tokens: Option<u64>,
    ) -> Self {
        let (status, headers) = answer;
        guard.answered(AttemptOutcome::Status(status.as_u16()), false);
        let event_stream = super::is_event_stream(headers);
        let watch = AnswerWatch::head_going_back(guard, arrived, headers, event_stream);
        match status.is_success() {
            true => watch.metered(UsageMeter::new(family, event_stream, prompt_tokens)),
            false => watch,
        }
    }

    /// Bills the attempt from this answer's usage as it passes.
    fn metered(mut self, meter: UsageMeter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// Body bytes on their way back.
    pub fn data(&mut self, data: &[u8]) {
        let whole = 0..data.len();
        self.read(data, std::slice::from_ref(&whole));
    }

    /// The body data of one read on its way back: the `pieces` of `bytes` (a chunked body's
    /// read interleaves chunk sizes with its data), noted as one.
    pub fn read(&mut self, bytes: &[u8], pieces: &[Range<usize>]) {
        if pieces.is_empty() {
            return;
        }
        let AnswerWatch { guard, arrived, events, terminated, meter } = self;
        guard.body_bytes(pieces.iter().map(Range::len).sum(), *arrived);
        if let Some(meter) = meter.as_mut() {
            pieces.iter().for_each(|piece| meter.bytes(&bytes[piece.clone()]));
        }
        // Past the terminator only a meter still reads, and only a usage report (Bedrock's
        // `metadata` follows its `messageStop`).
        let Some(events) = events.as_mut().filter(|_| !*terminated || meter.is_some()) else {
            return;
        };
        for piece in pieces {
            events.scan(&bytes[piece.clone()], |scanned| {
                let event = scanned.bytes;
                if *terminated {
                    if let Some(meter) = meter.as_mut() {
                        meter.trailer(event);
                    }
                } else if scanned.is_terminator() {
                    *terminated = true;
                } else if let Some(meter) = meter.as_mut() {
                    if meter.event(event) {
                        guard.first_token(*arrived);
                    }
                    // A Gemini stream has no terminator: its last event, the finish, ends it.
                    *terminated = meter.finished();
                }
            });
        }
    }

    /// The body ended: `whole` when it came to its end rather than failing on the way. An event
    /// stream is complete only with its terminator.
    pub fn ended(&mut self, whole: bool) {
        let completed = whole && (self.events.is_none() || self.terminated);
        self.guard.finished(self.arrived.elapsed(), completed);
    }
}

impl Drop for AnswerWatch {
    /// Ended or abandoned, the answer so far is what the attempt is billed for.
    fn drop(&mut self) {
        if let Some(meter) = self.meter.take() {
            self.guard.billed(meter.usage());
        }
    }
}

impl<B> Body for RecordedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    this.watch.data(data);
                }
                // A body of known length may not be polled again after its last bytes.
                if this.inner.is_end_stream() {
                    this.watch.ended(true);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => {
                this.watch.ended(false);
                Poll::Ready(Some(Err(error.into())))
            }
            None => {
                this.watch.ended(true);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::{BodyExt, StreamBody};

    use super::*;
    use crate::metrics::{AttemptRecord, Recorder};

    async fn recorded(frames: &[&'static [u8]], event_stream: bool) -> AttemptRecord {
        recorded_with(frames, event_stream, None).await
    }

    async fn recorded_with(
        frames: &[&'static [u8]],
        event_stream: bool,
        meter: Option<UsageMeter>,
    ) -> AttemptRecord {
        let recorder = Recorder::new();
        let record = AttemptRecord::arrived(0, 0, None, Duration::ZERO, Vec::new());
        let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
            frames.iter().map(|f| Ok(Frame::data(Bytes::from_static(f)))).collect();
        let guard = AttemptGuard::new(record, recorder.clone());
        let mut watch = AnswerWatch::new(guard, Instant::now(), event_stream);
        if let Some(meter) = meter {
            watch = watch.metered(meter);
        }
        let mut body = RecordedBody::watched(StreamBody::new(futures_util::stream::iter(chunks)), watch);
        while body.frame().await.is_some() {}
        drop(body);
        recorder.snapshot().attempts.remove(0)
    }

    #[tokio::test]
    async fn a_terminator_split_across_frames_still_completes_the_stream() {
        let record = recorded(&[b"data: {}\n\ndata: [DO", b"NE]\n\n"], true).await;
        assert_eq!(record.answer.completed, Some(true));
        assert_eq!(record.answer.bytes, 24);
    }

    #[tokio::test]
    async fn a_stream_without_its_terminator_is_incomplete_but_a_json_body_is_complete() {
        let cut = recorded(&[b"data: {\"content\":\"data: [DONE]\"}\n\n"], true).await;
        assert_eq!(cut.answer.completed, Some(false), "[DONE] inside JSON is not the end");
        let json = recorded(&[b"{\"ok\":true}"], false).await;
        assert_eq!(json.answer.completed, Some(true));
    }

    #[tokio::test]
    async fn a_metered_stream_is_billed_for_the_events_before_its_terminator() {
        let meter = UsageMeter::new(crate::wire::ApiFamily::OpenAi, true, Some(40));
        let frames: &[&'static [u8]] = &[
            b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"con",
            b"tent\":\"b\"}}]}\n\ndata: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n",
        ];
        let record = recorded_with(frames, true, Some(meter)).await;
        let usage = crate::metrics::TokenUsage { input: 40, output: 2, estimated: true };
        assert_eq!(record.usage, Some(usage));
        let unmetered = recorded(frames, true).await;
        assert_eq!(unmetered.usage, Some(crate::metrics::TokenUsage::NONE), "nothing billed unless metered");
    }

    /// A 200 stream of `family` in `content_type`, `frames` (whole, then fed in 7-byte chunks) as
    /// the interposer watches it, metered with a prompt estimate of 40 tokens.
    async fn upstream_stream(family: ApiFamily, content_type: &str, frames: &[Bytes]) -> AttemptRecord {
        stream_record(family, content_type, |watch| {
            frames.concat().chunks(7).for_each(|chunk| watch.data(chunk))
        })
    }

    /// The record of a 200 stream of `family` in `content_type`, its bytes shown to the watch
    /// by `feed`, metered with a prompt estimate of 40 tokens.
    fn stream_record(
        family: ApiFamily,
        content_type: &str,
        feed: impl FnOnce(&mut AnswerWatch),
    ) -> AttemptRecord {
        let recorder = Recorder::new();
        let guard = AttemptGuard::new(
            AttemptRecord::arrived(0, 0, None, Duration::ZERO, Vec::new()),
            recorder.clone(),
        );
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, content_type.parse().unwrap());
        let answer = (StatusCode::OK, &headers);
        let mut watch = AnswerWatch::upstream_answer(guard, Instant::now(), answer, family, Some(40));
        feed(&mut watch);
        watch.ended(true);
        drop(watch);
        recorder.snapshot().attempts.remove(0)
    }

    async fn bedrock_answer(frames: &[Bytes]) -> AttemptRecord {
        upstream_stream(ApiFamily::Bedrock, crate::wire::eventstream::CONTENT_TYPE, frames).await
    }

    /// An OpenAI stream's record, its bytes shown to the watch by `feed`.
    fn openai_stream_record(feed: impl FnOnce(&mut AnswerWatch)) -> AttemptRecord {
        stream_record(ApiFamily::OpenAi, "text/event-stream", feed)
    }

    #[tokio::test]
    async fn the_chunks_of_one_read_noted_at_once_give_the_record_they_give_one_by_one() {
        let events: [&[u8]; 5] = [
            b"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n",
            b": keep-alive\n\n",
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}\n\n",
            b"data: [DONE]\n\n",
        ];
        let stream = events.concat();
        let by_byte = openai_stream_record(|watch| stream.chunks(1).for_each(|byte| watch.data(byte)));
        // The stream in two reads of chunked framing, cut inside an event: sizes between the data.
        let (first, second) = stream.split_at(70);
        let read = |data: &[u8], pieces: usize| {
            let mut bytes = Vec::new();
            let mut ranges = Vec::new();
            for piece in data.chunks(data.len().div_ceil(pieces)) {
                bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                ranges.push(bytes.len()..bytes.len() + piece.len());
                bytes.extend_from_slice(piece);
                bytes.extend_from_slice(b"\r\n");
            }
            (bytes, ranges)
        };
        let by_read = openai_stream_record(|watch| {
            for (bytes, ranges) in [read(first, 3), read(second, 4)] {
                watch.read(&bytes, &ranges);
            }
        });
        assert_eq!(by_read.answer.bytes, stream.len() as u64);
        assert_eq!(by_read.answer.completed, Some(true));
        assert_eq!(by_read.usage, Some(crate::metrics::TokenUsage { input: 7, output: 1, estimated: false }));
        assert!(by_read.answer.first_token.is_some() && by_read.answer.first_byte.is_some());
        assert_eq!(
            (by_read.answer.bytes, by_read.answer.completed, by_read.usage),
            (by_byte.answer.bytes, by_byte.answer.completed, by_byte.usage)
        );
    }

    #[tokio::test]
    async fn a_bedrock_stream_is_complete_at_message_stop_and_billed_from_its_metadata() {
        use crate::wire::bedrock::event;
        use serde_json::json;
        let delta = event("contentBlockDelta", &json!({ "contentBlockIndex": 0, "delta": { "text": "a" } }));
        let frames = [
            event("messageStart", &json!({ "role": "assistant" })),
            delta.clone(),
            delta,
            event("contentBlockStop", &json!({ "contentBlockIndex": 0 })),
            event("messageStop", &json!({ "stopReason": "end_turn" })),
            event(
                "metadata",
                &json!({ "usage": { "inputTokens": 12, "outputTokens": 2, "totalTokens": 14 } }),
            ),
        ];
        let whole = bedrock_answer(&frames).await;
        assert_eq!(whole.answer.completed, Some(true));
        assert_eq!(whole.usage, Some(crate::metrics::TokenUsage { input: 12, output: 2, estimated: false }));
        let cut = bedrock_answer(&frames[..3]).await;
        assert_eq!(cut.answer.completed, Some(false), "no messageStop");
        assert_eq!(cut.usage, Some(crate::metrics::TokenUsage { input: 40, output: 2, estimated: true }));
    }

    /// Found behind LiteLLM (`tests/gateways.rs`): every Gemini stream was recorded incomplete,
    /// since Gemini sends no terminator event; its last event, with the `finishReason`, ends it.
    #[tokio::test]
    async fn a_gemini_stream_is_complete_at_its_finish_event_and_billed_from_its_usage() {
        // Each event carries the usage so far: the prompt's count, and at the finish the output's.
        let so_far = r#""usageMetadata":{"promptTokenCount":12}"#;
        let usage =
            r#""usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":2,"totalTokenCount":14}"#;
        let token = format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"a\"}}],\"role\":\"model\"}}}}],{so_far}}}\r\n\r\n"
        );
        let finish = format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"\"}}],\"role\":\"model\"}},\"finishReason\":\"STOP\"}}],{usage}}}\r\n\r\n"
        );
        let frames = [token.clone(), token, finish].map(Bytes::from);
        let whole = upstream_stream(ApiFamily::Gemini, "text/event-stream", &frames).await;
        assert_eq!(whole.answer.completed, Some(true));
        assert_eq!(whole.usage, Some(crate::metrics::TokenUsage { input: 12, output: 2, estimated: false }));
        let cut = upstream_stream(ApiFamily::Gemini, "text/event-stream", &frames[..2]).await;
        assert_eq!(cut.answer.completed, Some(false), "no finishReason");
        assert_eq!(cut.usage, Some(crate::metrics::TokenUsage { input: 12, output: 2, estimated: true }));
    }
}
