//! An answer the interposer makes itself, written on the byte-level path as hyper would write
//! it ([`http1::whole_response`]): a status fault's canned answer, or the interposer's own 502
//! when its upstream cannot be reached. Recorded as hyper's path records it (`respond`): the
//! outcome first, then the head going back (with the wait it asks), its body and its end, all
//! before it is written.

use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::{io::AsyncWriteExt, time::Instant};

use crate::{
    metrics::AttemptOutcome,
    net::{
        http1::{self, RequestHead},
        AbortableStream,
    },
    proxy::{attempt::AttemptGuard, recorded::AnswerWatch},
    wire::CannedResponse,
};

/// Writes `canned` to the target as the answer to `request` (its head only, to a `HEAD`; saying
/// `connection: close` when the target asked to close, as hyper does), the attempt recorded as
/// `outcome` (`injected` by a fault, or not); returns whether it was written whole.
pub async fn answer(
    io: &mut AbortableStream,
    mut guard: AttemptGuard,
    arrived: Instant,
    canned: &CannedResponse,
    outcome: AttemptOutcome,
    injected: bool,
    request: &RequestHead,
) -> bool {
    guard.answered(outcome, injected);
    let mut watch = AnswerWatch::head_going_back(guard, arrived, &header_map(canned), false);
    let mut headers = std::borrow::Cow::Borrowed(canned.headers.as_slice());
    if !request.keep_alive {
        headers.to_mut().push(("connection", "close".to_owned()));
    }
    let mut bytes = http1::whole_response(canned.status, &headers, &canned.body);
    match request.method == http::Method::HEAD {
        true => bytes.truncate(bytes.len() - canned.body.len()),
        false => watch.data(&canned.body),
    }
    // Ended before it is written, as hyper's path records a body it has been handed: a retry
    // asked to wait is timed from here, and must not be timed from a moment after the target
    // already had the answer (a task descheduled after its write would record it late).
    watch.ended(true);
    drop(watch);
    io.write_all(&bytes).await.is_ok()
}

/// The canned answer's headers as a map, for what the record reads of them (`retry-after`).
fn header_map(canned: &CannedResponse) -> HeaderMap {
    canned
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((HeaderName::try_from(*name).ok()?, HeaderValue::try_from(value.as_str()).ok()?))
        })
        .collect()
}
