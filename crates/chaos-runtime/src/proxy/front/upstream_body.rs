//! An upstream answer's body read off the byte-level path's upstream connection and taken out of
//! its framing (a length, chunks, or the connection's end) as a hyper [`Body`] of its data: what
//! [`crate::net::FaultyStream`] consumes, so stream faults run on the byte path through the very
//! code that runs them on hyper's.

use std::{
    io,
    pin::Pin,
    task::{ready, Context, Poll},
};

use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame};
use tokio::net::TcpStream;

use crate::net::{
    http1::{BodyProgress, DataRuns, Framing, RawConnection, READ_SIZE},
    BoxError,
};

/// The data of the answer whose head `link` has just read (and given up), read as it comes.
pub struct UpstreamBody<'a> {
    link: &'a mut RawConnection,
    progress: BodyProgress,
    /// The body came to its end: the connection holds nothing more of it.
    whole: bool,
}

impl<'a> UpstreamBody<'a> {
    pub fn new(link: &'a mut RawConnection, framing: Framing) -> Self {
        UpstreamBody { link, progress: BodyProgress::new(framing), whole: false }
    }

    /// Whether the body was read to its end (else the connection is mid-answer: not to be kept).
    pub fn is_whole(&self) -> bool {
        self.whole
    }
}

/// Reads what the socket has into `read`, as [`crate::net::http1::fill`] does, for a poll.
fn poll_fill(stream: &TcpStream, read: &mut BytesMut, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    if read.capacity() - read.len() < READ_SIZE / 4 {
        read.reserve(READ_SIZE);
    }
    loop {
        ready!(stream.poll_read_ready(cx))?;
        match stream.try_read_buf(read) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            read => return Poll::Ready(read),
        }
    }
}

impl Body for UpstreamBody<'_> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            if this.whole {
                return Poll::Ready(None);
            }
            // Where the data lies in the bytes read (chunked framing interleaves sizes with it).
            let mut data = DataRuns::new();
            let (taken, ended) = this.progress.take(&this.link.read, |range| data.push(range))?;
            let taken = this.link.read.split_to(taken).freeze();
            this.whole = ended;
            let data = match data.as_slice() {
                [] => None,
                [only] => Some(taken.slice(only.clone())),
                runs => Some(runs.iter().flat_map(|run| &taken[run.clone()]).copied().collect()),
            };
            if let Some(data) = data {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            if ended {
                continue;
            }
            match ready!(poll_fill(&this.link.stream, &mut this.link.read, cx)) {
                Ok(1..) => {}
                Ok(_) if this.progress.ends_at_close() => this.whole = true,
                Ok(_) => return Poll::Ready(Some(Err("the upstream closed mid-answer".into()))),
                Err(error) => return Poll::Ready(Some(Err(error.into()))),
            }
        }
    }
}
