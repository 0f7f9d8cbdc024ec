//! The interposer's byte-level path: what it does for every request no fault touches. A whole
//! HTTP/1.1 request is read off the target's socket ([`http1::request`]), decided
//! ([`super::decide`]), and, when the decision changes nothing, written to the upstream as it came
//! (less hop-by-hop headers); the answer goes back as it comes, head and body bytes unchanged,
//! while its record is kept ([`AnswerWatch`]). No HTTP codec runs twice, no task is woken in
//! between: the added latency of a hop is the point of the interposer's speed targets.
//!
//! The first request that falls outside the subset, or that a fault touches, is handed to hyper
//! with the connection and the bytes read so far ([`crate::net::Front`]); its decision goes
//! with it ([`super::Connection::handed_over`]), and hyper serves the connection from then on.
//! An `https://` upstream is always hyper's, and so is one whose key the interposer swaps
//! ([`super::credential`]): bytes forwarded as they came would carry the target's key.
//!
//! A request is in flight on the connection's watchdog ([`crate::net::Watchdog`]) from its
//! whole head to its answer's end, so the header and idle timeouts run only between requests.

mod relay;

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::{io::AsyncWriteExt, sync::watch};

use super::{
    decide::{decide, unread, Asked, Chains, Decided},
    recorded::AnswerWatch,
    unreachable, BodyFields, Connection,
};
use crate::{
    metrics::AttemptOutcome,
    net::{
        http1::{self, ask, fill, Framing, Origin, Parse, RawConnection, Readiness, RequestHead, READ_SIZE},
        AbortableStream, Front, InFlight, MAX_BODY_BYTES,
    },
    wire::ApiFamily,
};
use relay::{relay, Broken};

/// The byte-level path for a connection of `connection`'s, or `None` when its upstream is not
/// plain HTTP or its key is swapped.
pub(super) fn front(connection: Arc<Connection>) -> Option<Front> {
    if connection.context.config.upstream_key.is_some() {
        return None;
    }
    let origin = Origin::of_http(&connection.context.config.upstream_uri)?;
    Some(Box::new(move |io, draining| Box::pin(serve(connection, origin, io, draining))))
}

/// Serves the connection's requests while they stay on this path; see the module's doc.
async fn serve(
    connection: Arc<Connection>,
    origin: Origin,
    mut io: AbortableStream,
    mut draining: watch::Receiver<bool>,
) -> Option<(AbortableStream, Bytes)> {
    let context = &*connection.context;
    let mut read = BytesMut::with_capacity(READ_SIZE);
    let mut upstream: Option<RawConnection> = None;
    // The head of the request being read, with the chains in force when it came.
    let mut arrival: Option<(RequestHead, Chains, InFlight)> = None;
    let watchdog = std::sync::Arc::clone(io.watchdog());
    loop {
        let (head, chains, in_flight) = loop {
            if arrival.is_none() {
                let chains = Chains::now(context);
                match http1::request(&read, chains.headers_read()) {
                    // hyper's path answers 413.
                    Parse::Complete(head) if head.body_len > MAX_BODY_BYTES as u64 => {
                        return Some((io, read.freeze()))
                    }
                    Parse::Complete(head) => arrival = Some((head, chains, watchdog.begin())),
                    Parse::Partial => {}
                    Parse::Beyond => return Some((io, read.freeze())),
                }
            }
            match arrival.take() {
                Some((head, chains, in_flight))
                    if read.len() as u64 >= head.head_len as u64 + head.body_len =>
                {
                    break (head, chains, in_flight)
                }
                pending => arrival = pending,
            }
            let more = if read.is_empty() {
                tokio::select! {
                    more = fill(&mut io, &mut read) => more,
                    _ = draining.wait_for(|draining| *draining) => return None,
                }
            } else {
                fill(&mut io, &mut read).await
            };
            if !matches!(more, Ok(1..)) {
                // The target hung up, between requests or before one was whole; a request whose
                // head came is recorded, cancelled.
                if let Some((head, chains, _)) = &arrival {
                    drop(unread(context, chains, &head.headers));
                }
                return None;
            }
        };
        let request = read.split_to(head.head_len + head.body_len as usize).freeze();
        let fields = match chains.read_body(&head.method) {
            true => BodyFields::read(&request[head.head_len..]),
            false => BodyFields::default(),
        };
        let asked = Asked { method: &head.method, uri: &head.uri, headers: &head.headers, fields };
        let decided = decide(context, &chains, asked);
        if !decided.clean {
            // hyper reads the request again and holds it in flight from there.
            drop(in_flight);
            *connection.handed_over.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(decided);
            let mut unserved = BytesMut::with_capacity(request.len() + read.len());
            unserved.extend_from_slice(&request);
            unserved.extend_from_slice(&read);
            return Some((io, unserved.freeze()));
        }
        let family = context.config.family;
        let target = Target { io: &mut io, read: &mut read };
        let carry_on = exchange(family, &origin, &mut upstream, target, &head, request, decided).await;
        drop(in_flight);
        if !carry_on || !head.keep_alive || *draining.borrow() {
            return None;
        }
    }
}

/// The target's connection: its socket, and what has been read of it beyond the request being
/// served (its next requests).
struct Target<'a> {
    io: &'a mut AbortableStream,
    read: &'a mut BytesMut,
}

impl Target<'_> {
    /// Waits for `answer` while watching the target: one that hangs up (or breaks its
    /// connection) meanwhile ends the wait with `None`, as hyper's path drops a request whose
    /// target went; what it sends meanwhile (its next request) is kept.
    async fn unless_gone<T>(&mut self, answer: impl std::future::Future<Output = T>) -> Option<T> {
        let mut answer = std::pin::pin!(answer);
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => return Some(answer),
                more = fill(self.io, self.read), if self.read.len() < http1::MAX_HEAD_BYTES => {
                    if !matches!(more, Ok(1..)) {
                        return None;
                    }
                }
            }
        }
    }
}

/// Forwards one whole request and relays its answer; returns whether the target's connection
/// can carry another request.
async fn exchange(
    family: ApiFamily,
    origin: &Origin,
    upstream: &mut Option<RawConnection>,
    mut target: Target<'_>,
    head: &RequestHead,
    request: Bytes,
    decided: Decided,
) -> bool {
    let Decided { arrived, mut guard, prompt_tokens, .. } = decided;
    guard.forwarding(prompt_tokens);
    let request = match &head.rewritten {
        Some(rewritten) => Bytes::from([rewritten.as_slice(), &request[head.head_len..]].concat()),
        None => request,
    };
    let to_head = head.method == http::Method::HEAD;
    let idempotent = head.method.is_idempotent();
    // Waiting for this request, the task waited on the reactor since the last answer ended.
    let readiness = Readiness::current_if(target.io.take_waited());
    let asked = ask(origin, upstream, &request, idempotent, to_head, readiness);
    let Some(mut answer) = target.unless_gone(asked).await else {
        // No one to answer: the record says cancelled, as on hyper's path.
        *upstream = None;
        return false;
    };
    let io = target.io;
    // Informational answers (103 Early Hints) go back as they come, before the final one.
    while let (Some(informational), Some(link)) = (answer.as_ref(), upstream.as_mut()) {
        if !informational.status.is_informational() {
            break;
        }
        let bytes = link.read.split_to(informational.head_len);
        if io.write_all(informational.rewritten.as_deref().unwrap_or(&bytes)).await.is_err() {
            return false;
        }
        answer = link.next_head(to_head).await;
    }
    let (Some(answer), Some(link)) = (answer, upstream.as_mut()) else {
        tracing::debug!("upstream unreachable");
        *upstream = None;
        guard.answered(AttemptOutcome::Unreachable, false);
        let canned = unreachable(family);
        // The interposer's own 502 asks for no wait.
        let mut watch = AnswerWatch::head_going_back(guard, arrived, &http::HeaderMap::new(), false);
        watch.data(&canned.body);
        let written =
            io.write_all(&http1::whole_response(canned.status, &canned.headers, &canned.body)).await;
        watch.ended(written.is_ok());
        return written.is_ok();
    };
    let mut watch =
        AnswerWatch::upstream_answer(guard, arrived, (answer.status, &answer.headers), family, prompt_tokens);
    match relay(link, io, &answer, &mut watch).await {
        Ok(()) => {
            // As on hyper's path, where an empty body is never polled, it is not marked ended.
            if !matches!(answer.framing, Framing::Empty | Framing::Length(0)) {
                watch.ended(true);
            }
            if !link.reusable(&answer) {
                *upstream = None;
            }
            answer.framing != Framing::UntilClose
        }
        Err(Broken::Upstream) => {
            // The target was promised more than it got: only closing tells it so.
            watch.ended(false);
            *upstream = None;
            false
        }
        Err(Broken::Target) => {
            *upstream = None;
            false
        }
    }
}
