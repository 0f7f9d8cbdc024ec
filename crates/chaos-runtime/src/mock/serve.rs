//! One request through a mock, the same for every dialect: authenticate → parse → faults →
//! overload → rate limit → generate (a JSON answer after the whole generation time, or a
//! paced stream), counting every answer per key and model.
//!
//! `GET /_chaos/counts` answers those counts as JSON, for tests and for people watching.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::{
    counters::{key_id, Counters},
    dialect::{Dialect, Route},
    generation::Generation,
    latency::DEFAULT_OUTPUT_TOKENS,
    paced::{Lateness, PacedBody},
    MockConfig, SeenRequest,
};
use crate::ratelimit::{Admission, Limiter};
use crate::{
    fault::{Chain, RequestView},
    net::{Abort, FaultyStream, Throttled},
    wire::CannedResponse,
};

/// A mock's response body: whole, or paced event by event (with `--fault` stream faults).
pub type MockBody = Throttled<Either<Full<Bytes>, Either<PacedBody, FaultyStream<PacedBody>>>>;

/// Shared state of one running mock.
pub struct MockState {
    pub config: MockConfig,
    pub dialect: Box<dyn Dialect>,
    pub limiter: Limiter,
    pub counters: Counters,
    pub seen: Arc<Mutex<Vec<SeenRequest>>>,
    pub rng: Mutex<StdRng>,
    pub faults: Chain,
    pub lateness: Lateness,
}

/// The path of the counts endpoint; outside every provider's API.
pub const COUNTS_PATH: &str = "/_chaos/counts";
/// The path of the stream-timing endpoint: how late paced events were.
pub const TIMING_PATH: &str = "/_chaos/timing";

/// Limiter slot for a key accepted without a configured key list.
const ANY_KEY: usize = crate::ratelimit::UNKNOWN_KEY;

/// A whole answer (the flow's functions return `Err` only to end a connection unanswered).
fn whole(response: CannedResponse) -> Result<Response<MockBody>, Abort> {
    paced_whole(response, None)
}

/// A whole answer whose bytes flow at `bandwidth` when a fault set one.
fn paced_whole(response: CannedResponse, bandwidth: Option<u64>) -> Result<Response<MockBody>, Abort> {
    Ok(response.into_response::<Full<Bytes>>().map(|body| Throttled::new(Either::Left(body), bandwidth)))
}

/// Answers one request.
pub async fn handle(state: Arc<MockState>, request: Request<Incoming>) -> Result<Response<MockBody>, Abort> {
    let (parts, body) = request.into_parts();
    let dialect = &*state.dialect;
    let body = match crate::net::read_body(body).await {
        Ok(body) => body,
        Err(error) if error.is::<http_body_util::LengthLimitError>() => return whole(dialect.too_large()),
        // Broken framing (or a client gone, who hears nothing either way): a 400, not a 413.
        Err(_) => return whole(crate::wire::malformed_body(state.config.family)),
    };
    if state.config.record_requests {
        let seen = SeenRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            body: body.clone(),
        };
        state.seen.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
    }
    if parts.method == http::Method::GET {
        match parts.uri.path() {
            COUNTS_PATH => return whole(CannedResponse::json(200, &state.counters.to_json())),
            TIMING_PATH => return whole(CannedResponse::json(200, &state.lateness.to_json())),
            _ => {}
        }
    }
    let route = dialect.route(&parts.method, parts.uri.path());
    if route == Route::Unknown {
        return whole(dialect.not_found(&parts.method, parts.uri.path()));
    }
    if let Some(refused) = dialect.check_query(parts.uri.query()) {
        return whole(refused);
    }
    let key = match authenticate(&state, &parts.headers, parts.uri.query()) {
        Ok(key) => key,
        Err(denied) => {
            state.counters.count(&key_id(None), "-", denied.status, 0, 0);
            return whole(denied);
        }
    };
    let key_name = key.map_or_else(|| "any".to_owned(), |i| key_id(Some(i)));
    match route {
        Route::Models => return whole(dialect.models(&state.config.models)),
        Route::Model => {
            let id = parts.uri.path().trim_start_matches("/v1/models/");
            return whole(dialect.model(id, state.config.models.iter().any(|m| m == id)));
        }
        Route::Generate | Route::Unknown => {}
    }
    generate(&state, key.unwrap_or(ANY_KEY), &key_name, &parts, &body).await
}

/// The index of the presented key in the configured list; `None` when any key is accepted.
fn authenticate(
    state: &MockState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Option<usize>, CannedResponse> {
    let presented = match state.dialect.presented_key(headers) {
        "" => state.dialect.query_key(query).unwrap_or(""),
        presented => presented,
    };
    let keys = &state.config.keys;
    match keys.iter().position(|key| key == presented) {
        Some(index) => Ok(Some(index)),
        None if keys.is_empty() && !presented.is_empty() => Ok(None),
        None => Err(state.dialect.unauthorized(presented)),
    }
}

async fn generate(
    state: &MockState,
    key: usize,
    key_name: &str,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Response<MockBody>, Abort> {
    let dialect = &*state.dialect;
    let headers = &parts.headers;
    let count = |model: &str, status: u16, prompt: u64, output: u64| {
        state.counters.count(key_name, model, status, prompt, output)
    };
    let ask = match dialect.parse(parts.uri.path(), headers, body) {
        Ok(ask) => ask,
        Err(bad) => {
            count("-", bad.status, 0, 0);
            return whole(bad);
        }
    };
    let view = RequestView {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        model: Some(&ask.model),
        stream: Some(ask.stream),
        key: (key != ANY_KEY).then_some(key),
        tokens: Some(ask.prompt_tokens + ask.limit.unwrap_or(DEFAULT_OUTPUT_TOKENS)),
        headers: Some(headers),
        draw_key: None,
    };
    let decision = state.faults.decide(&view);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    if let Some(fault) = decision.connection {
        // Counted first: a hang may never return.
        count(&ask.model, 0, 0, 0);
        return Err(crate::net::enact(fault).await);
    }
    if let Some(injected) = decision.response {
        count(&ask.model, injected.status, 0, 0);
        return whole(injected);
    }
    let seed = {
        let mut rng = state.rng.lock().unwrap_or_else(|p| p.into_inner());
        if rng.random::<f64>() < state.config.overload {
            None
        } else {
            Some(rng.random::<u64>())
        }
    };
    let Some(seed) = seed else {
        let overloaded = dialect.overloaded();
        count(&ask.model, overloaded.status, 0, 0);
        return whole(overloaded);
    };
    let cost = ask.prompt_tokens + ask.limit.unwrap_or(DEFAULT_OUTPUT_TOKENS);
    let limits = match state.limiter.admit(key, &ask.model, cost, tokio::time::Instant::now()) {
        Admission::Admitted(limits) => limits,
        Admission::Limited { kind, wait, requested_tokens, state: limits } => {
            let limited = crate::ratelimit::limit_exceeded(
                state.config.family,
                &ask.model,
                kind,
                wait,
                requested_tokens,
                &limits,
            );
            count(&ask.model, limited.status, 0, 0);
            return whole(limited);
        }
    };
    let stream = ask.stream;
    let mut generation =
        Generation::new(ask, state.config.latency, state.config.output, StdRng::seed_from_u64(seed));
    count(&generation.model, 200, generation.prompt_tokens, generation.output_tokens);
    if stream {
        let head = dialect.with_limit_headers(dialect.stream_head(), &limits);
        let paced = PacedBody::new(dialect.stream(generation), state.lateness.clone());
        let body = match decision.stream {
            faults if faults.is_empty() => Either::Left(paced),
            faults => {
                let content_type = head.headers.iter().find(|(name, _)| *name == "content-type");
                let content_type = content_type.map_or("", |(_, value)| value.as_str());
                Either::Right(FaultyStream::new(paced, faults).framed_as(content_type))
            }
        };
        let bandwidth = decision.bandwidth;
        return Ok(head
            .into_response::<Full<Bytes>>()
            .map(|_| Throttled::new(Either::Right(body), bandwidth)));
    }
    // A zero sleep still waits for the next millisecond tick of tokio's timer: skip it.
    let generation_time = generation.total_time();
    if !generation_time.is_zero() {
        tokio::time::sleep(generation_time).await;
    }
    paced_whole(dialect.with_limit_headers(dialect.complete(&generation), &limits), decision.bandwidth)
}
