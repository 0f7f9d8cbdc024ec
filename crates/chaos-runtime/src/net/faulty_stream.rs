//! A response body with stream faults applied: the upstream's bytes are split into events —
//! SSE events, or whole AWS event-stream frames for Bedrock ([`FaultyStream::framed_as`]) —
//! (holding back only an unfinished one, so no fault tears an event) and each event goes through the faults' decisions
//! (pass, delay, drop, insert, end, hang), and the end of the stream may be held
//! (`slow_close`). Events are numbered in the stream and, apart, among the tool-call argument
//! fragments (what `in: tool_arguments` counts). The one place stream faults sleep and write.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame};
use tokio::time::Sleep;

use super::BoxError;
use crate::{
    fault::{EventAction, FaultAction},
    wire::{sse_split::SseEvent, stream_split::EventSplitter},
};

/// `inner` with `faults` applied to its events.
pub struct FaultyStream<B> {
    inner: B,
    faults: Vec<FaultAction>,
    splitter: EventSplitter,
    ready: VecDeque<Bytes>,
    index: u64,
    /// Tool-call argument fragments seen so far.
    tool_arguments: u64,
    inner_done: bool,
    /// Output held back by a delay, and the delay.
    held: Option<(Bytes, Pin<Box<Sleep>>)>,
    /// The stream ends once what is held has been written.
    ended: bool,
    hung: bool,
    /// How long to hold the end once everything is written (`slow_close`); zero once held.
    end_hold: Duration,
}

impl<B> FaultyStream<B> {
    pub fn new(inner: B, faults: Vec<FaultAction>) -> Self {
        let end_hold = faults.iter().map(FaultAction::on_end).sum();
        FaultyStream {
            inner,
            faults,
            splitter: EventSplitter::default(),
            ready: VecDeque::new(),
            index: 0,
            tool_arguments: 0,
            inner_done: false,
            held: None,
            ended: false,
            hung: false,
            end_hold,
        }
    }

    /// Splits the body as its `content_type` says (SSE unless told otherwise).
    pub fn framed_as(mut self, content_type: &str) -> Self {
        self.splitter = EventSplitter::for_content_type(content_type);
        self
    }

    /// The body the faults are applied to.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// What to write for one event, how long to hold it, and whether the stream ends after it.
    fn decide(&mut self, event: Bytes) -> (Bytes, Duration) {
        let mut view = SseEvent { index: self.index, bytes: &event, tool_argument: None };
        self.index += 1;
        if view.carries_tool_arguments() {
            view.tool_argument = Some(self.tool_arguments);
            self.tool_arguments += 1;
        }
        let mut before = BytesMut::new();
        let mut delay = Duration::ZERO;
        let mut keep = true;
        for fault in &self.faults {
            match fault.on_event(&view) {
                EventAction::Pass => {}
                EventAction::Delay(d) => delay += d,
                EventAction::Drop => keep = false,
                EventAction::InsertBefore(bytes) => before.extend_from_slice(&bytes),
                EventAction::EndWith(bytes) => {
                    before.extend_from_slice(&bytes);
                    keep = false;
                    self.ended = true;
                }
                EventAction::End => {
                    keep = false;
                    self.ended = true;
                }
                EventAction::Hang => self.hung = true,
            }
            if self.ended || self.hung {
                break;
            }
        }
        if keep && !self.hung {
            before.extend_from_slice(&event);
        }
        (before.freeze(), delay)
    }
}

impl<B> Body for FaultyStream<B>
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
        loop {
            if let Some((_, sleep)) = this.held.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                let (bytes, _) = this.held.take().expect("held output");
                if !bytes.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                continue;
            }
            if this.hung {
                // Never woken: the stream stays open and silent until the target hangs up.
                return Poll::Pending;
            }
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(event) = this.ready.pop_front() {
                let (bytes, delay) = this.decide(event);
                if !delay.is_zero() {
                    this.held = Some((bytes, Box::pin(tokio::time::sleep(delay))));
                    continue;
                }
                if bytes.is_empty() {
                    continue;
                }
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
            if this.inner_done {
                let hold = std::mem::take(&mut this.end_hold);
                if !hold.is_zero() {
                    this.held = Some((Bytes::new(), Box::pin(tokio::time::sleep(hold))));
                    continue;
                }
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.ready.extend(this.splitter.push(&data));
                    }
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None => {
                    this.inner_done = true;
                    this.ready.extend(this.splitter.finish());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, StreamBody};

    use super::*;
    use crate::fault::{
        CutFault, DropFault, DroppedEvent, EventScope, InjectFault, Injected, StallFault, TrickleFault,
    };
    use crate::wire::ApiFamily;

    const EVENTS: [&str; 5] = [
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"c\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n",
        "data: [DONE]\n\n",
    ];

    /// The stream in awkward 7-byte chunks, so events straddle chunk boundaries.
    fn upstream() -> impl Body<Data = Bytes, Error = std::convert::Infallible> + Unpin {
        let bytes = EVENTS.concat().into_bytes();
        let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
            bytes.chunks(7).map(|c| Ok(Frame::data(Bytes::copy_from_slice(c)))).collect();
        StreamBody::new(futures_util::stream::iter(chunks))
    }

    /// Frames with their arrival times (paused clock).
    async fn run(faults: Vec<FaultAction>) -> Vec<(u128, String)> {
        let start = tokio::time::Instant::now();
        let mut body = FaultyStream::new(upstream(), faults);
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.expect("frame").into_data().expect("data");
            out.push((start.elapsed().as_millis(), String::from_utf8_lossy(&data).into_owned()));
        }
        out
    }

    fn text(frames: &[(u128, String)]) -> String {
        frames.iter().map(|(_, t)| t.as_str()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn no_fault_passes_every_byte() {
        assert_eq!(text(&run(vec![]).await), EVENTS.concat());
    }

    #[tokio::test(start_paused = true)]
    async fn cut_ends_the_body_without_the_terminator() {
        let frames =
            run(vec![FaultAction::Cut(CutFault { after_events: 2, scope: EventScope::Events })]).await;
        assert_eq!(text(&frames), EVENTS[..2].concat());
    }

    #[tokio::test(start_paused = true)]
    async fn stall_holds_the_stream_once_then_goes_on() {
        let stall = StallFault {
            after_events: 2,
            duration: Some(Duration::from_secs(30)),
            scope: EventScope::Events,
        };
        let frames = run(vec![FaultAction::Stall(stall)]).await;
        let times: Vec<u128> = frames.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 0, 30_000, 30_000, 30_000]);
        assert_eq!(text(&frames), EVENTS.concat());
    }

    #[tokio::test(start_paused = true)]
    async fn slow_close_writes_every_event_at_once_and_ends_the_body_later() {
        let start = tokio::time::Instant::now();
        let fault = crate::fault::SlowCloseFault { hold: Duration::from_secs(5) };
        let mut body = FaultyStream::new(upstream(), vec![FaultAction::SlowClose(fault)]);
        let mut text = String::new();
        while let Some(frame) = body.frame().await {
            let data = frame.expect("frame").into_data().expect("data");
            assert_eq!(start.elapsed(), Duration::ZERO, "an event was held");
            text.push_str(&String::from_utf8_lossy(&data));
        }
        assert_eq!(text, EVENTS.concat(), "every event, the terminator included");
        assert_eq!(start.elapsed(), Duration::from_secs(5), "the body ended after the hold");
    }

    #[tokio::test(start_paused = true)]
    async fn stall_forever_never_finishes() {
        let stall = StallFault { after_events: 1, duration: None, scope: EventScope::Events };
        let mut body = FaultyStream::new(upstream(), vec![FaultAction::Stall(stall)]);
        assert!(body.frame().await.is_some());
        let next = tokio::time::timeout(Duration::from_secs(3600), body.frame()).await;
        assert!(next.is_err(), "the stream should still be stalled after an hour");
    }

    #[tokio::test(start_paused = true)]
    async fn trickle_spaces_every_event() {
        let frames = run(vec![FaultAction::Trickle(TrickleFault::fixed(Duration::from_millis(200)))]).await;
        let times: Vec<u128> = frames.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [200, 400, 600, 800, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn drop_removes_done_or_usage() {
        let done = run(vec![FaultAction::Drop(DropFault { what: DroppedEvent::Done })]).await;
        assert_eq!(text(&done), EVENTS[..4].concat());
        let usage = run(vec![FaultAction::Drop(DropFault { what: DroppedEvent::Usage })]).await;
        assert_eq!(text(&usage), [&EVENTS[..3], &EVENTS[4..]].concat().concat());
    }

    #[tokio::test(start_paused = true)]
    async fn crlf_events_are_counted_and_cut_like_lf_ones() {
        let stream = b"data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n";
        let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
            stream.chunks(3).map(|c| Ok(Frame::data(Bytes::copy_from_slice(c)))).collect();
        let body = StreamBody::new(futures_util::stream::iter(chunks));
        let mut faulty = FaultyStream::new(
            body,
            vec![FaultAction::Cut(CutFault { after_events: 2, scope: EventScope::Events })],
        );
        let mut out = Vec::new();
        while let Some(frame) = faulty.frame().await {
            out.extend_from_slice(&frame.expect("frame").into_data().expect("data"));
        }
        assert_eq!(out, b"data: a\r\n\r\ndata: b\r\n\r\n");
    }

    #[tokio::test(start_paused = true)]
    async fn an_injected_error_ends_the_stream_in_the_familys_format() {
        let inject = InjectFault {
            what: Injected::Error,
            after_events: 1,
            scope: EventScope::Events,
            family: ApiFamily::OpenAi,
        };
        let frames = run(vec![FaultAction::Inject(inject)]).await;
        assert_eq!(frames.len(), 2);
        assert!(frames[1].1.starts_with("data: {\"error\":"), "{}", frames[1].1);
    }

    /// A Bedrock stream of five frames in 5-byte chunks, through `faults`.
    async fn bedrock_run(faults: Vec<FaultAction>) -> (Vec<Bytes>, Vec<(u128, usize)>) {
        use serde_json::json;
        let frames: Vec<Bytes> = (0..4)
            .map(|i| {
                crate::wire::bedrock::event(
                    "contentBlockDelta",
                    &json!({ "delta": { "text": i.to_string() } }),
                )
            })
            .chain([crate::wire::bedrock::event("messageStop", &json!({ "stopReason": "end_turn" }))])
            .collect();
        let bytes = frames.concat();
        let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> =
            bytes.chunks(5).map(|c| Ok(Frame::data(Bytes::copy_from_slice(c)))).collect();
        let body = StreamBody::new(futures_util::stream::iter(chunks));
        let start = tokio::time::Instant::now();
        let mut faulty = FaultyStream::new(body, faults).framed_as(crate::wire::eventstream::CONTENT_TYPE);
        let mut out = Vec::new();
        while let Some(frame) = faulty.frame().await {
            let data = frame.expect("frame").into_data().expect("data");
            out.push((start.elapsed().as_millis(), data.len()));
        }
        (frames, out)
    }

    #[tokio::test(start_paused = true)]
    async fn bedrock_frames_are_cut_and_stalled_whole() {
        let (frames, untouched) = bedrock_run(vec![]).await;
        assert_eq!(untouched.iter().map(|(_, len)| len).sum::<usize>(), frames.concat().len());
        let cut = FaultAction::Cut(CutFault { after_events: 2, scope: EventScope::Events });
        let (frames, out) = bedrock_run(vec![cut]).await;
        let lengths: Vec<usize> = out.iter().map(|(_, len)| *len).collect();
        assert_eq!(lengths, [frames[0].len(), frames[1].len()], "two whole frames, nothing of the third");
        let stall =
            StallFault { after_events: 3, duration: Some(Duration::from_secs(5)), scope: EventScope::Events };
        let (frames, out) = bedrock_run(vec![FaultAction::Stall(stall)]).await;
        let times: Vec<u128> = out.iter().map(|(at, _)| *at).collect();
        assert_eq!(times, [0, 0, 0, 5000, 5000], "held between the third and fourth frame");
        assert_eq!(out.iter().map(|(_, len)| len).sum::<usize>(), frames.concat().len());
    }
}
