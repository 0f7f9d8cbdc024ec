//! Relaying an event stream with stream faults (stall, cut, trickle, drop, inject,
//! `slow_close`) on the byte-level path. The faults change the body's length, so the answer goes
//! back as hyper's path sends it: its head without `content-length` and with
//! `transfer-encoding: chunked` ([`http1::rechunked`]), its body taken out of the upstream's
//! framing ([`UpstreamBody`]), run through [`FaultyStream`] — the one place stream faults are
//! played, on either path — and each piece it gives written as one chunk.

use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use super::{relay::Broken, upstream_body::UpstreamBody, Target};
use crate::{
    fault::FaultAction,
    net::{
        http1::{self, RawConnection, ResponseHead},
        FaultyStream,
    },
    proxy::recorded::AnswerWatch,
    wire::stream_split,
};

/// Relays the event stream whose head `link` has just read with `faults` applied (saying
/// `connection: close` unless the target's connection is `kept`, as hyper does); returns whether
/// the upstream's body was read to its end (else its connection is not to be kept).
pub async fn relay_faulted(
    link: &mut RawConnection,
    target: &mut Target<'_>,
    (answer, kept): (&ResponseHead, bool),
    watch: &mut AnswerWatch,
    faults: Vec<FaultAction>,
) -> Result<bool, Broken> {
    let came = link.read.split_to(answer.head_len);
    let head = http1::rechunked(&came, !kept).map_err(|_| Broken::Upstream)?;
    target.io.write_all(&head).await.map_err(|_| Broken::Target)?;
    let content_type = stream_split::content_type(&answer.headers);
    let mut body = FaultyStream::new(UpstreamBody::new(link, answer.framing), faults).framed_as(content_type);
    loop {
        // A stall or a hang writes nothing for a while: a target that goes meanwhile ends it.
        let frame = target.unless_gone(body.frame()).await.ok_or(Broken::Target)?;
        let data = match frame {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
            Some(Err(_)) => return Err(Broken::Upstream),
        };
        target.io.write_all(&chunk(&data)).await.map_err(|_| Broken::Target)?;
        watch.data(&data);
    }
    target.io.write_all(b"0\r\n\r\n").await.map_err(|_| Broken::Target)?;
    Ok(body.get_ref().is_whole())
}

/// `data` as one chunk of a chunked body.
fn chunk(data: &[u8]) -> Bytes {
    let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
    chunk.reserve(data.len() + 2);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(b"\r\n");
    Bytes::from(chunk)
}
