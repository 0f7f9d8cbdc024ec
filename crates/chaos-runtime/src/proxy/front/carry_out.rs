//! A request's decision carried out on the byte-level path, in the order hyper's path carries it
//! out (`respond`): the wait first (`latency`), then a connection fault (`hang`, `reset`: the
//! record marked first, since a hang may never return), or an answer in the upstream's place (a
//! status fault), or else the request forwarded, with stream faults on its answer ([`exchange`]).
//! The connection stays on this path afterwards, unless the fault ended it.

use super::{canned, exchange, Target};
use crate::{
    metrics::AttemptOutcome,
    net::{http1::Origin, http1::RawConnection, http1::RequestHead, Abort},
    proxy::decide::Decided,
    wire::ApiFamily,
};

/// Carries out `decided` for the request `head` (whose bytes are `request`); returns whether the
/// target's connection can carry another request.
pub async fn carry_out(
    family: ApiFamily,
    origin: &Origin,
    upstream: &mut Option<RawConnection>,
    mut target: Target<'_>,
    head: &RequestHead,
    request: bytes::Bytes,
    mut decided: Decided,
) -> bool {
    let delay = decided.decision.delay;
    // A target that hangs up meanwhile is no longer waited for: its record says cancelled.
    if !delay.is_zero() && target.unless_gone(tokio::time::sleep(delay)).await.is_none() {
        return false;
    }
    if let Some(fault) = decided.decision.connection {
        let mut guard = decided.guard;
        guard.answered(AttemptOutcome::Aborted, true);
        let ended = target.unless_gone(crate::net::enact(fault)).await;
        // Written before the connection ends, as hyper's path writes it.
        drop(guard);
        if ended == Some(Abort::Reset) {
            target.io.reset_on_close();
        }
        return false;
    }
    if let Some(answer) = decided.decision.response.take() {
        let Decided { guard, arrived, .. } = decided;
        let status = AttemptOutcome::Status(answer.status);
        return canned::answer(target.io, guard, arrived, &answer, status, true, head).await;
    }
    exchange(family, origin, upstream, target, head, request, decided).await
}
