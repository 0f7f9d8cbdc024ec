//! The interposer's byte-level path. A whole HTTP/1.1 request is read off the target's socket
//! ([`http1::request`]), decided ([`super::decide`]), and the decision carried out here
//! ([`carry_out`]): when it changes nothing the request is written to the upstream as it came
//! (less hop-by-hop headers) and the answer goes back as it comes, head and body bytes
//! unchanged, while its record is kept ([`AnswerWatch`]). No HTTP codec runs twice, no task is
//! woken in between: the added latency of a hop is the point of the interposer's speed targets.
//! A fault that fires is carried out here too — a wait, a hang or reset, a canned answer
//! ([`canned`]), stream faults on the answer ([`faulted_stream`]) — and the connection stays on
//! this path afterwards.
//!
//! What it leaves to hyper, with the connection and the bytes read so far ([`crate::net::Front`],
//! counted as `handed_over`): a request outside its subset (h2c, HTTP/1.0, a chunked or
//! `Expect`ing request, an upgrade, a malformed head, a body over the limit), and one whose answer
//! a `bandwidth` fault throttles ([`crate::net::Throttled`] paces hyper's body). Its decision goes
//! with it ([`super::Connection::handed_over`]), and hyper serves the connection from then on. An
//! `https://` upstream is always hyper's, and so is one whose key the interposer swaps
//! ([`super::credential`]): bytes forwarded as they came would carry the target's key.
//!
//! A request is in flight on the connection's watchdog ([`crate::net::Watchdog`]) from its
//! whole head to its answer's end, so the header and idle timeouts run only between requests.

mod canned;
mod carry_out;
mod faulted_stream;
mod relay;
mod upstream_body;

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::{io::AsyncWriteExt, sync::watch};

use super::{
    decide::{decide, unread, Asked, Chains, Decided},
    recorded::AnswerWatch,
    unreachable, BodyFields, Connection,
};
use crate::{
    fault::FaultAction,
    metrics::AttemptOutcome,
    net::{
        http1::{self, ask, fill, Framing, Origin, Parse, RawConnection, Readiness, RequestHead, READ_SIZE},
        AbortableStream, Front, InFlight, MAX_BODY_BYTES,
    },
    wire::ApiFamily,
};
use carry_out::carry_out;
use faulted_stream::relay_faulted;
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
            // Nothing read yet is no request yet: its chains are those in force when it comes.
            if arrival.is_none() && !read.is_empty() {
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
        if decided.decision.bandwidth.is_some() {
            // A throttled answer is paced by hyper's path ([`crate::net::Throttled`]), which reads
            // the request again and holds it in flight from there.
            drop(in_flight);
            *connection.handed_over.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(decided);
            let mut unserved = BytesMut::with_capacity(request.len() + read.len());
            unserved.extend_from_slice(&request);
            unserved.extend_from_slice(&read);
            return Some((io, unserved.freeze()));
        }
        let family = context.config.family;
        let target = Target { io: &mut io, read: &mut read };
        let carry_on = carry_out(family, &origin, &mut upstream, target, &head, request, decided).await;
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

/// Forwards one whole request and relays its answer, with the decision's stream faults applied
/// to an event stream; returns whether the target's connection can carry another request.
async fn exchange(
    family: ApiFamily,
    origin: &Origin,
    upstream: &mut Option<RawConnection>,
    mut target: Target<'_>,
    head: &RequestHead,
    request: Bytes,
    decided: Decided,
) -> bool {
    let Decided { arrived, mut guard, prompt_tokens, decision, .. } = decided;
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
    // Informational answers (103 Early Hints) go back as they come, before the final one.
    while let (Some(informational), Some(link)) = (answer.as_ref(), upstream.as_mut()) {
        if !informational.status.is_informational() {
            break;
        }
        let bytes = link.read.split_to(informational.head_len);
        if target.io.write_all(informational.rewritten.as_deref().unwrap_or(&bytes)).await.is_err() {
            return false;
        }
        answer = link.next_head(to_head).await;
    }
    let (Some(answer), Some(link)) = (answer, upstream.as_mut()) else {
        tracing::debug!("upstream unreachable");
        *upstream = None;
        let unreachable = unreachable(family);
        let outcome = AttemptOutcome::Unreachable;
        return canned::answer(target.io, guard, arrived, &unreachable, outcome, false, head).await;
    };
    let stream_faults = decision.stream;
    let faulted = !stream_faults.is_empty() && super::is_event_stream(&answer.headers);
    if faulted {
        guard.fired(stream_faults.iter().map(FaultAction::label));
    }
    let mut watch =
        AnswerWatch::upstream_answer(guard, arrived, (answer.status, &answer.headers), family, prompt_tokens);
    // A body the faults rewrite goes back whole (chunked) whatever the upstream's framing was.
    let relayed = match faulted && answer.framing != Framing::Empty {
        true => relay_faulted(link, &mut target, (&answer, head.keep_alive), &mut watch, stream_faults).await,
        false => relay(link, target.io, &answer, &mut watch).await.map(|()| true),
    };
    match relayed {
        Ok(whole) => {
            // As on hyper's path, where an empty body is never polled, it is not marked ended.
            if faulted || !matches!(answer.framing, Framing::Empty | Framing::Length(0)) {
                watch.ended(true);
            }
            if !whole || !link.reusable(&answer) {
                *upstream = None;
            }
            faulted || answer.framing != Framing::UntilClose
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
