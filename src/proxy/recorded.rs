//! The answer's body on its way back to the target, carrying the attempt's record: it counts
//! bytes, notes the first byte and the end, and — for an event stream — whether the terminator
//! (`[DONE]`, `message_stop`) went through. The record is written when the body ends or is
//! dropped, so a stream the target abandons is recorded as incomplete.

use std::{
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use hyper::body::{Body, Frame};
use tokio::time::Instant;

use super::attempt::AttemptGuard;
use crate::net::BoxError;

/// Terminators of the providers' streams.
const TERMINATORS: [&[u8]; 2] = [b"data: [DONE]", b"event: message_stop"];
/// Bytes kept from the previous frame, so a terminator split across frames is still seen.
const TAIL: usize = 24;

/// `inner` with the attempt's record riding along.
pub struct RecordedBody<B> {
    inner: B,
    guard: AttemptGuard,
    arrived: Instant,
    event_stream: bool,
    terminated: bool,
    tail: Vec<u8>,
}

impl<B> RecordedBody<B> {
    pub fn new(inner: B, guard: AttemptGuard, arrived: Instant, event_stream: bool) -> Self {
        RecordedBody { inner, guard, arrived, event_stream, terminated: false, tail: Vec::new() }
    }

    fn watch(&mut self, data: &[u8]) {
        self.guard.body_bytes(data.len(), self.arrived.elapsed());
        if !self.event_stream || self.terminated {
            return;
        }
        self.tail.extend_from_slice(data);
        self.terminated = TERMINATORS.iter().any(|t| self.tail.windows(t.len()).any(|w| w == *t));
        let keep = self.tail.len().saturating_sub(TAIL);
        self.tail.drain(..keep);
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
                    this.watch(data);
                }
                // A body of known length may not be polled again after its last bytes.
                if this.inner.is_end_stream() {
                    let completed = !this.event_stream || this.terminated;
                    this.guard.finished(this.arrived.elapsed(), completed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => {
                this.guard.finished(this.arrived.elapsed(), false);
                Poll::Ready(Some(Err(error.into())))
            }
            None => {
                let completed = !this.event_stream || this.terminated;
                this.guard.finished(this.arrived.elapsed(), completed);
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
