//! The upstreams role's desk, on its `--control` address: where the load shards of a split run
//! check in, learn the start instant, and hand over their records.
//!
//! | request | does |
//! |---|---|
//! | `POST /split/shards/{K}/ready` ([`CheckIn`]) | checks shard K in; answers [`StartAt`]: the start instant once all N have checked in, else how many are missing |
//! | `POST /split/shards/{K}/records` ([`ShardRecords`]) | takes shard K's records, once; 204 |
//! | `GET /split` | the shards, which checked in, the start instant, which reported |
//!
//! With a token (`--control-token`, or `CHAOS_CONTROL_TOKEN`), every request must carry it; a
//! `POST` must say its body is `application/json`, which a web page cannot send to another
//! origin without asking first. A shard of another split or another scenario is refused (409).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use http::{header, Method, StatusCode};
use hyper::{body::Incoming, Request, Response};
use serde_json::json;
use tokio::{net::TcpListener, sync::Notify};

use super::hand_over::{CheckIn, ShardRecords, StartAt};
use crate::{
    net::{Abort, ServerHandle},
    ops::http::{authorized, error, json as json_response, read_body, unauthorized, Body},
};

/// How often the upstreams role says which shards it still waits for.
const WAITING_NOTE: Duration = Duration::from_secs(30);
/// The largest check-in read.
const MAX_CHECK_IN: usize = 64 * 1024;
/// The largest records a shard may hand over (about two million requests).
const MAX_RECORDS: usize = 1 << 30;

/// The coordinator's side of a split run.
#[derive(Debug)]
pub struct Desk {
    shards: u32,
    scenario: String,
    token: Option<String>,
    state: Mutex<DeskState>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct DeskState {
    ready: BTreeSet<u32>,
    start_at_unix_ms: Option<u64>,
    records: BTreeMap<u32, ShardRecords>,
    /// The records were taken: later ones are refused.
    closed: bool,
}

impl Desk {
    /// A desk for `shards` shards of the scenario whose digest is `scenario`, serving on
    /// `listener` until the handle is shut down.
    pub fn spawn(
        listener: TcpListener,
        shards: u32,
        scenario: String,
        token: Option<String>,
    ) -> std::io::Result<(Arc<Desk>, ServerHandle)> {
        let desk =
            Arc::new(Desk { shards, scenario, token, state: Mutex::default(), changed: Notify::new() });
        let serving = Arc::clone(&desk);
        let server = crate::net::spawn(listener, crate::net::ConnectionLimits::default(), move |request| {
            let desk = Arc::clone(&serving);
            async move { Ok::<_, Abort>(desk.answer(request).await) }
        })?;
        Ok((desk, server))
    }

    /// The start instant, once every shard has checked in; the shards still missing once
    /// `wait` has passed. Says which it waits for every [`WAITING_NOTE`].
    pub async fn start_instant(&self, wait: Duration) -> Result<u64, Vec<u32>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.changed.notified();
            if let Some(at) = self.lock().start_at_unix_ms {
                return Ok(at);
            }
            let note = tokio::time::Instant::now() + WAITING_NOTE;
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep_until(note.min(deadline)) => {
                    let missing = self.missing_check_ins();
                    if tokio::time::Instant::now() >= deadline {
                        return Err(missing);
                    }
                    let names: Vec<String> = missing.iter().map(|i| format!("{i}/{}", self.shards)).collect();
                    println!("still waiting for load shard(s) {} to check in", names.join(", "));
                }
            }
        }
    }

    /// The shards that have not checked in.
    fn missing_check_ins(&self) -> Vec<u32> {
        let state = self.lock();
        (0..self.shards).filter(|index| !state.ready.contains(index)).collect()
    }

    /// The shards' records, once all have reported or `wait` has passed; and the shards that
    /// had not.
    pub async fn records(&self, wait: Duration) -> (Vec<ShardRecords>, Vec<u32>) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.changed.notified();
            if self.lock().records.len() == self.shards as usize {
                break;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                break;
            }
        }
        let mut state = self.lock();
        state.closed = true;
        let missing = (0..self.shards).filter(|index| !state.records.contains_key(index)).collect();
        (std::mem::take(&mut state.records).into_values().collect(), missing)
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Body> {
        if !authorized(request.headers(), self.token.as_deref()) {
            return unauthorized();
        }
        let (parts, body) = request.into_parts();
        let segments: Vec<&str> = parts.uri.path().split('/').filter(|s| !s.is_empty()).collect();
        if parts.method == Method::GET && segments == ["split"] {
            return self.status();
        }
        let (kind, index) = match (&parts.method, segments.as_slice()) {
            (&Method::POST, ["split", "shards", index, kind @ ("ready" | "records")]) => (*kind, *index),
            _ => {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("no such endpoint: {} {}", parts.method, parts.uri.path()),
                )
            }
        };
        let Some(index) = index.parse::<u32>().ok().filter(|index| *index < self.shards) else {
            return error(
                StatusCode::NOT_FOUND,
                format!("no shard {index}: this run has shards 0 to {}", self.shards - 1),
            );
        };
        let json_body = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !json_body.is_some_and(|value| value.trim_start().starts_with("application/json")) {
            return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be application/json");
        }
        let limit = if kind == "ready" { MAX_CHECK_IN } else { MAX_RECORDS };
        let bytes = match read_body(body, limit).await {
            Ok(bytes) => bytes,
            Err(too_large) => return too_large,
        };
        match kind {
            "ready" => self.check_in(index, &bytes),
            _ => self.take_records(index, &bytes),
        }
    }

    fn check_in(&self, index: u32, body: &Bytes) -> Response<Body> {
        let check_in: CheckIn = match serde_json::from_slice(body) {
            Ok(check_in) => check_in,
            Err(problem) => return error(StatusCode::BAD_REQUEST, format!("not a check-in: {problem}")),
        };
        if check_in.count != self.shards {
            let message = format!("shard {index} is one of {}, this run has {}", check_in.count, self.shards);
            return error(StatusCode::CONFLICT, message);
        }
        if check_in.scenario != self.scenario {
            return error(StatusCode::CONFLICT, "the shard plays another scenario text than this run's");
        }
        let mut state = self.lock();
        state.ready.insert(index);
        let waiting_for = self.shards - state.ready.len() as u32;
        if waiting_for == 0 && state.start_at_unix_ms.is_none() {
            state.start_at_unix_ms = Some(super::unix_ms(SystemTime::now() + super::START_DELAY));
            self.changed.notify_waiters();
        }
        let answer = StartAt { start_at_unix_ms: state.start_at_unix_ms, waiting_for };
        json_response(StatusCode::OK, &serde_json::to_value(answer).unwrap_or_default())
    }

    fn take_records(&self, index: u32, body: &Bytes) -> Response<Body> {
        let records: ShardRecords = match serde_json::from_slice(body) {
            Ok(records) => records,
            Err(problem) => {
                return error(StatusCode::BAD_REQUEST, format!("not a shard's records: {problem}"))
            }
        };
        if (records.index, records.count) != (index, self.shards) {
            let message = format!(
                "records of shard {}/{} sent as shard {index}/{}",
                records.index, records.count, self.shards
            );
            return error(StatusCode::CONFLICT, message);
        }
        let mut state = self.lock();
        if state.closed {
            return error(StatusCode::GONE, "the run's results were written without this shard's records");
        }
        if state.records.contains_key(&index) {
            return error(StatusCode::CONFLICT, format!("shard {index} has already handed over its records"));
        }
        state.records.insert(index, records);
        self.changed.notify_waiters();
        Response::builder().status(StatusCode::NO_CONTENT).body(Body::new(Bytes::new())).unwrap_or_default()
    }

    fn status(&self) -> Response<Body> {
        let state = self.lock();
        let status = json!({
            "shards": self.shards,
            "ready": state.ready,
            "start_at_unix_ms": state.start_at_unix_ms,
            "reported": state.records.keys().collect::<Vec<_>>(),
        });
        json_response(StatusCode::OK, &status)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DeskState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::split::desk_client::DeskClient;

    async fn desk(shards: u32) -> (Arc<Desk>, ServerHandle, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let (desk, server) =
            Desk::spawn(listener, shards, "abc".to_owned(), Some("t0k".to_owned())).expect("serves");
        let base = format!("http://{}", server.addr);
        (desk, server, base)
    }

    fn check_in(count: u32, scenario: &str) -> Bytes {
        Bytes::from(serde_json::to_vec(&CheckIn { count, scenario: scenario.to_owned() }).unwrap())
    }

    #[tokio::test]
    async fn the_start_instant_comes_once_every_shard_has_checked_in_and_strangers_are_refused() {
        let (desk, server, base) = desk(2).await;
        let client = DeskClient::new(&base, Some("t0k".to_owned()), false).await.expect("a client");
        let stranger = DeskClient::new(&base, None, false).await.expect("a client");
        let (status, _) = stranger.post("/split/shards/0/ready", check_in(2, "abc")).await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = client.post("/split/shards/0/ready", check_in(3, "abc")).await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "a shard of another split");
        let (status, _) = client.post("/split/shards/0/ready", check_in(2, "xyz")).await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "a shard of another scenario");
        let (status, _) = client.post("/split/shards/2/ready", check_in(2, "abc")).await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "no shard 2 of 2");
        let (status, body) = client.post("/split/shards/0/ready", check_in(2, "abc")).await.unwrap();
        let first: StartAt = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, first), (StatusCode::OK, StartAt { start_at_unix_ms: None, waiting_for: 1 }));
        let (_, body) = client.post("/split/shards/1/ready", check_in(2, "abc")).await.unwrap();
        let second: StartAt = serde_json::from_slice(&body).unwrap();
        let start = second.start_at_unix_ms.expect("a start once both are in");
        assert_eq!(desk.start_instant(Duration::from_secs(1)).await, Ok(start));
        let (_, body) = client.post("/split/shards/0/ready", check_in(2, "abc")).await.unwrap();
        let again: StartAt = serde_json::from_slice(&body).unwrap();
        assert_eq!(again.start_at_unix_ms, Some(start), "one instant for all, however often asked");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn a_shard_that_never_checks_in_is_named() {
        let (desk, server, base) = desk(2).await;
        let client = DeskClient::new(&base, Some("t0k".to_owned()), false).await.expect("a client");
        let _ = client.post("/split/shards/0/ready", check_in(2, "abc")).await.unwrap();
        assert_eq!(desk.start_instant(Duration::from_millis(100)).await, Err(vec![1]));
        let _ = client.post("/split/shards/1/ready", check_in(2, "abc")).await.unwrap();
        assert!(desk.start_instant(Duration::from_secs(1)).await.is_ok(), "both in");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn each_shard_hands_its_records_over_once_and_a_missing_one_is_named() {
        let (desk, server, base) = desk(2).await;
        let client = DeskClient::new(&base, Some("t0k".to_owned()), false).await.expect("a client");
        let records = |index| {
            let generator = crate::load::GeneratorStats::default().to_parts();
            let (logical, token_gaps) = (Vec::new(), Vec::new());
            let records =
                ShardRecords { index, count: 2, logical, token_gaps, generator, interrupted: false };
            Bytes::from(serde_json::to_vec(&records).unwrap())
        };
        let (status, _) = client.post("/split/shards/1/records", records(0)).await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "shard 0's records sent as shard 1's");
        let (status, _) = client.post("/split/shards/0/records", records(0)).await.unwrap();
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = client.post("/split/shards/0/records", records(0)).await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT, "twice");
        let (reports, missing) = desk.records(Duration::from_millis(200)).await;
        assert_eq!((reports.len(), missing), (1, vec![1]));
        let (status, _) = client.post("/split/shards/1/records", records(1)).await.unwrap();
        assert_eq!(status, StatusCode::GONE, "too late: the results are written");
        server.shutdown().await;
    }
}
