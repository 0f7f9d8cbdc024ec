//! An answer's body that holds its request [`InFlight`] on the connection's watchdog until the
//! body has gone (written whole, or dropped), so the wait for the next request starts only
//! then: a slow stream is never timed as an idle connection.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use hyper::body::{Body, Frame, SizeHint};

use super::watchdog::InFlight;

/// `inner`, with the request it answers held in flight while it lasts.
pub struct InFlightBody<B> {
    inner: B,
    _request: InFlight,
}

impl<B> InFlightBody<B> {
    pub fn new(inner: B, request: InFlight) -> Self {
        InFlightBody { inner, _request: request }
    }
}

impl<B: Body + Unpin> Body for InFlightBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
