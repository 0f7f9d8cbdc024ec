//! Relaying an answer from the upstream connection to the target as bytes: the head and the
//! body bytes already read in one write, then the rest as it comes, until the body's framing
//! says it has ended. Each read's body data is shown to the attempt's [`AnswerWatch`] once it
//! has been written, in one call however many chunks it holds: the target never waits for the
//! record (timings, SSE events, `usage`).

use bytes::{Buf, Bytes};
use tokio::io::AsyncWriteExt;

use crate::{
    net::{
        http1::{fill, BodyProgress, DataRuns, RawConnection, ResponseHead},
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
    link: &mut RawConnection,
    io: &mut AbortableStream,
    answer: &ResponseHead,
    watch: &mut AnswerWatch,
) -> Result<(), Broken> {
    let came = link.read.split_to(answer.head_len).freeze();
    let mut head = match &answer.rewritten {
        Some(rewritten) => Bytes::copy_from_slice(rewritten),
        None => came,
    };
    let mut body = BodyProgress::new(answer.framing);
    // Where the data lies in each read's bytes (chunked framing interleaves sizes with it).
    let mut data = DataRuns::new();
    loop {
        let (taken, ended) = body.take(&link.read, |range| data.push(range)).map_err(|_| Broken::Upstream)?;
        let sent = &link.read[..taken];
        let mut out = head.split_off(0).chain(sent);
        io.write_all_buf(&mut out).await.map_err(|_| Broken::Target)?;
        watch.read(sent, &data);
        data.clear();
        link.read.advance(taken);
        if ended {
            // What the target's next request waits for tells whether the kept connection's
            // readiness is current when it goes ([`crate::net::http1::Readiness`]).
            io.take_waited();
            return Ok(());
        }
        match fill(&mut link.stream, &mut link.read).await {
            Ok(1..) => {}
            Ok(_) if body.ends_at_close() => return Ok(()),
            Ok(_) | Err(_) => return Err(Broken::Upstream),
        }
    }
}
