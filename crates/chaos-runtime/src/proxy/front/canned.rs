//! An answer the interposer makes itself, written on the byte-level path as hyper would write
//! it ([`http1::whole_response`]): a status fault's canned answer, or the interposer's own 502
//! when its upstream cannot be reached. Recorded as hyper's path records it (`respond`): the
//! outcome first, then the head going back (with the wait it asks), its body, its end.

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
    let mut bytes = match request.keep_alive {
        true => http1::whole_response(canned.status, &canned.headers, &canned.body),
        false => {
            let mut headers = canned.headers.clone();
            headers.push(("connection", "close".to_owned()));
            http1::whole_response(canned.status, &headers, &canned.body)
        }
    };
    match request.method == http::Method::HEAD {
        true => bytes.truncate(bytes.len() - canned.body.len()),
        false => watch.data(&canned.body),
    }
    let written = io.write_all(&bytes).await;
    watch.ended(written.is_ok());
    written.is_ok()
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
