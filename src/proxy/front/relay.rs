//! Relaying an answer from the upstream connection to the target as bytes: the head and the
//! body bytes already read in one write, then the rest as it comes, until the body's framing
//! says it has ended; every body byte passes the attempt's [`AnswerWatch`] on the way.

use bytes::{Buf, Bytes};
use tokio::io::AsyncWriteExt;

use super::upstream::{fill, Upstream};
use crate::{
    net::{
        http1::{ChunkedTracker, Framing, ResponseHead},
        AbortableStream,
    },
    proxy::recorded::AnswerWatch,
};

/// Which side broke off an answer on its way.
pub enum Broken {
    Upstream,
    Target,
}

/// Relays the answer whose head `link` has just read: the head (as it came, or without its
/// hop-by-hop headers) and, in the same write, the body bytes already read, then the rest as
/// it comes, until its framing says it has ended.
pub async fn relay(
    link: &mut Upstream,
    io: &mut AbortableStream,
    answer: &ResponseHead,
    watch: &mut AnswerWatch,
) -> Result<(), Broken> {
    let came = link.read.split_to(answer.head_len).freeze();
    let mut head = match &answer.rewritten {
        Some(rewritten) => Bytes::copy_from_slice(rewritten),
        None => came,
    };
    let mut left = match answer.framing {
        Framing::Length(length) => length,
        _ => 0,
    };
    let mut chunks = ChunkedTracker::default();
    loop {
        let (taken, ended) = match answer.framing {
            Framing::Empty => (0, true),
            Framing::Length(_) => {
                let taken = link.read.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                watch.data(&link.read[..taken]);
                left -= taken as u64;
                (taken, left == 0)
            }
            Framing::Chunked => {
                let taken = chunks.feed(&link.read, |data| watch.data(data)).map_err(|_| Broken::Upstream)?;
                (taken, chunks.is_done())
            }
            Framing::UntilClose => {
                watch.data(&link.read);
                (link.read.len(), false)
            }
        };
        let mut out = head.split_off(0).chain(link.read.split_to(taken));
        io.write_all_buf(&mut out).await.map_err(|_| Broken::Target)?;
        if ended {
            return Ok(());
        }
        match fill(&mut link.stream, &mut link.read).await {
            Ok(1..) => {}
            Ok(_) if answer.framing == Framing::UntilClose => return Ok(()),
            Ok(_) | Err(_) => return Err(Broken::Upstream),
        }
    }
}
