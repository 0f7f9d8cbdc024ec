//! A body whose bytes go out no faster than a rate (the `bandwidth` fault): frames are cut into
//! slices and each slice waits until its bytes are due, counted from the first byte.

use std::{
    future::Future,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::BoxError;
use crate::fault::bandwidth::{due, slice};

/// `inner`, paced to `bytes_per_second` when set; untouched otherwise.
pub struct Throttled<B> {
    inner: B,
    bytes_per_second: Option<u64>,
    started: Option<Instant>,
    sent: u64,
    /// The unsent part of the current frame.
    rest: Bytes,
    /// A slice waiting until its bytes are due.
    waiting: Option<(Bytes, Pin<Box<Sleep>>)>,
}

impl<B> Throttled<B> {
    pub fn new(inner: B, bytes_per_second: Option<u64>) -> Self {
        Throttled { inner, bytes_per_second, started: None, sent: 0, rest: Bytes::new(), waiting: None }
    }
}

impl<B> Body for Throttled<B>
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
        let Some(rate) = this.bytes_per_second else {
            return Pin::new(&mut this.inner)
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(Into::into)));
        };
        loop {
            if let Some((_, sleep)) = this.waiting.as_mut() {
                ready!(sleep.as_mut().poll(cx));
                let (piece, _) = this.waiting.take().expect("a waiting slice");
                this.sent += piece.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
            if !this.rest.is_empty() {
                let started = *this.started.get_or_insert_with(Instant::now);
                let piece = this.rest.split_to(slice(rate).min(this.rest.len()));
                let due_at = started + due(this.sent + piece.len() as u64, rate);
                if due_at > Instant::now() {
                    this.waiting = Some((piece, Box::pin(tokio::time::sleep_until(due_at))));
                    continue;
                }
                this.sent += piece.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.rest = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.waiting.is_none() && self.inner.is_end_stream()
    }

    /// Pacing changes when the bytes go out, never how many: what is left is what is held plus
    /// what the inner body has still to give. An exact size lets hyper frame the answer with
    /// `content-length` (one write) rather than chunks (a second write for the last chunk).
    fn size_hint(&self) -> SizeHint {
        let held = self.rest.len() as u64 + self.waiting.as_ref().map_or(0, |(piece, _)| piece.len() as u64);
        let inner = self.inner.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(held));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(held));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Full};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bytes_flow_at_the_rate() {
        let start = Instant::now();
        let mut body = Throttled::new(Full::new(Bytes::from(vec![7u8; 1000])), Some(500));
        let mut received = Vec::new();
        while let Some(frame) = body.frame().await {
            received.extend_from_slice(&frame.expect("frame").into_data().expect("data"));
        }
        assert_eq!(received, vec![7u8; 1000], "every byte, unchanged");
        assert_eq!(start.elapsed(), std::time::Duration::from_secs(2), "1000 B at 500 B/s");
    }

    #[tokio::test(start_paused = true)]
    async fn the_size_left_counts_what_is_held_back() {
        let mut body = Throttled::new(Full::new(Bytes::from(vec![7u8; 1000])), Some(500));
        assert_eq!(body.size_hint().exact(), Some(1000));
        let first = body.frame().await.expect("a frame").expect("data").into_data().expect("data");
        assert_eq!(body.size_hint().exact(), Some(1000 - first.len() as u64), "the rest, held or not");
        assert_eq!(
            Throttled::new(Full::new(Bytes::from_static(b"hello")), None).size_hint().exact(),
            Some(5)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_rate_the_body_passes_at_once() {
        let start = Instant::now();
        let body = Throttled::new(Full::new(Bytes::from_static(b"hello")), None);
        assert_eq!(body.collect().await.expect("body").to_bytes(), "hello");
        assert_eq!(start.elapsed(), std::time::Duration::ZERO);
    }
}
