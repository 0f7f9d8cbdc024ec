//! The client that sends each logical request: to the target's URL, or — as the built-in
//! target — straight to the interposers, retrying with an SDK's policy ([`super::retry`]) and
//! falling back along a list of upstreams as a gateway would. It reads every answer to its end
//! and times it ([`super::observe`]).
//!
//! What counts as what, as the SDKs behave:
//! - a failure before a 2xx head (an error status, a timeout, a refused or reset connection)
//!   is retried if the policy says so, then falls back to the next route;
//! - once a 2xx head has arrived, the answer is the user's: a stream that is cut or stalls past
//!   the timeout is not retried (the SDKs hand the stream to the caller at the head); a
//!   non-streamed body that breaks off is a connection error and is retried. Only the `naive`
//!   policy, a home-made loop, retries an answered stream that broke off or stalled too (each
//!   retry bills the prompt again: the retry storm's cost).

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use rand::{rngs::SmallRng, Rng, SeedableRng};

use super::{
    body::{self, Credentials, RequestSpec},
    observe::{observe, BodyEnd, Observation},
    retry::{RetryAdvice, RetryPolicy},
};
use crate::{
    metrics::{AnswerTiming, Outcome, RunClock},
    net::{Busy, Connections},
    proxy::{CORRELATION_HEADER, RETRY_COUNT_HEADER},
    wire::ApiFamily,
};

/// One place a request can go: a base URL speaking one API family with one key.
#[derive(Clone)]
pub struct Route {
    /// Base URL, e.g. `http://127.0.0.1:41000`.
    pub base: Uri,
    /// The format it takes; `None` for a gateway that takes either (each request is sent in
    /// its own `api`).
    pub family: Option<ApiFamily>,
    /// Keys it presents: logical request `id` uses `api_keys[id % len]` on every attempt (a
    /// pool of keys in turn, or just one).
    pub api_keys: Vec<String>,
    /// The plan's upstream behind this route, when the client talks to upstreams directly.
    pub upstream: Option<usize>,
}

impl std::fmt::Debug for Route {
    /// Everything but the key, which never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("base", &self.base)
            .field("family", &self.family)
            .field("api_keys", &format!("<{} redacted>", self.api_keys.len()))
            .field("upstream", &self.upstream)
            .finish()
    }
}

/// How the client sends and retries.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The primary route first, then the fallbacks in order.
    pub routes: Vec<Route>,
    /// Retries on each route after its first attempt.
    pub retries: u32,
    pub policy: RetryPolicy,
    /// Per attempt, from the send to the last byte.
    pub timeout: Duration,
    /// Seeds the backoff jitter; each logical request mixes in its id.
    pub seed: u64,
    /// The time scale: backoff and server waits are reasoned in scenario time, slept ÷ F.
    pub speed: crate::speed::Speed,
}

/// How one logical request ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub outcome: Outcome,
    pub attempts: u32,
    /// When the first attempt went to the wire (after its body was built).
    pub sent: Option<Duration>,
    /// The upstream of the route that gave the final answer.
    pub served_by: Option<usize>,
    /// How the final answer arrived, if an answer's head did.
    pub answer: Option<AnswerTiming>,
    /// Inter-token gaps of the final answer, microseconds.
    pub gaps_us: Vec<u32>,
}

const CORRELATION: http::HeaderName = http::HeaderName::from_static(CORRELATION_HEADER);
const RETRY_COUNT: http::HeaderName = http::HeaderName::from_static(RETRY_COUNT_HEADER);

/// Where an attempt goes, in which format, with which key.
struct Destination<'a> {
    family: ApiFamily,
    credentials: &'a Credentials,
    endpoint: &'a Endpoints,
}

/// How to reach one route: its generation path for each family (origin-form), its keys' headers
/// and the connections to it (which know its `Host`).
struct Endpoints {
    /// OpenAI's, then Anthropic's.
    paths: [Uri; 2],
    /// The route's `api_keys`, in order.
    credentials: Arc<[Credentials]>,
    connections: Connections<HttpConnector, Full<Bytes>>,
}

impl Endpoints {
    fn new(route: &Route) -> anyhow::Result<Self> {
        let base = &route.base;
        let credentials = route
            .api_keys
            .iter()
            .enumerate()
            .map(|(index, key)| {
                // The key itself never reaches an error message.
                Credentials::new(key)
                    .map_err(|_| anyhow::anyhow!("key {} for {base} cannot be a header value", index + 1))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let prefix = base.path().trim_end_matches('/');
        let path = |family| format!("{prefix}{}", body::path(family)).parse::<Uri>();
        let origin = Uri::builder()
            .scheme(base.scheme().cloned().unwrap_or(http::uri::Scheme::HTTP))
            .authority(base.authority().cloned().ok_or_else(|| anyhow::anyhow!("{base} names no host"))?)
            .path_and_query("/")
            .build()?;
        let connections = Connections::new(crate::net::tcp_connector(), origin);
        anyhow::ensure!(connections.host().is_some(), "{base} names no host");
        Ok(Endpoints {
            paths: [path(ApiFamily::OpenAi)?, path(ApiFamily::Anthropic)?],
            credentials: credentials.into(),
            connections,
        })
    }

    /// The same endpoints with no connections yet.
    fn without_connections(&self) -> Self {
        Endpoints {
            paths: self.paths.clone(),
            credentials: Arc::clone(&self.credentials),
            connections: self.connections.with_none_kept(),
        }
    }
}

/// What one attempt produced.
enum Attempt {
    /// A 2xx head arrived; the answer is final whatever its body did (no observation: the
    /// body ran past the deadline).
    Answered { outcome: Outcome, head: Duration, observation: Option<Observation> },
    /// No 2xx answer: an error status (with its head), a timeout or a broken connection.
    Failed { outcome: Outcome, answer: Option<(u16, HeaderMap)>, head: Option<Duration> },
}

/// Sends logical requests over keep-alive connections.
#[derive(Clone)]
pub struct LoadClient {
    config: Arc<ClientConfig>,
    clock: RunClock,
    /// Per route, how to reach it.
    endpoints: Arc<[Endpoints]>,
}

impl std::fmt::Debug for LoadClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl LoadClient {
    /// A client for `config` that times everything on `clock`.
    pub fn new(config: ClientConfig, clock: RunClock) -> anyhow::Result<Self> {
        anyhow::ensure!(!config.routes.is_empty(), "the client needs at least one route");
        anyhow::ensure!(config.routes.iter().all(|r| !r.api_keys.is_empty()), "every route needs a key");
        let endpoints = config.routes.iter().map(Endpoints::new).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(LoadClient { config: Arc::new(config), clock, endpoints: endpoints.into() })
    }

    /// The same client with connections of its own: connections are driven on the runtime
    /// that opened them, so a load thread keeps its own.
    pub fn with_own_pool(&self) -> Self {
        let endpoints: Vec<Endpoints> = self.endpoints.iter().map(Endpoints::without_connections).collect();
        LoadClient { endpoints: endpoints.into(), ..self.clone() }
    }

    /// How long one attempt may take, from its send to its last byte.
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// Sends logical request `id` asking for `spec`, with `prompt` as the longest prompt text.
    pub async fn send(&self, id: u64, spec: &RequestSpec, prompt: &str) -> Completion {
        let config = &self.config;
        let mut jitter = SmallRng::seed_from_u64(config.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut attempts = 0;
        let mut sent = None;
        let mut last = (Outcome::ConnectionError, None, None);
        for (route, endpoint) in config.routes.iter().zip(self.endpoints.iter()) {
            let family = route.family.unwrap_or(spec.api);
            let body = body::body(family, spec, prompt, id);
            let to = Destination {
                family,
                credentials: &endpoint.credentials[(id % endpoint.credentials.len() as u64) as usize],
                endpoint,
            };
            for retries_so_far in 0..=config.retries {
                attempts += 1;
                sent.get_or_insert_with(|| self.clock.elapsed());
                let (outcome, answer, head) =
                    match self.attempt(&to, id, attempts - 1, body.clone(), spec.stream).await {
                        Attempt::Answered { outcome, .. }
                            if outcome != Outcome::Ok
                                && retries_so_far < config.retries
                                && config.policy.retries_broken_answers() =>
                        {
                            continue;
                        }
                        Attempt::Answered { outcome, head, observation } => {
                            let mut completion =
                                answered(outcome, attempts, route.upstream, head, observation);
                            completion.sent = sent;
                            return completion;
                        }
                        Attempt::Failed { outcome, answer, head } => (outcome, answer, head),
                    };
                let retry = retries_so_far < config.retries
                    && config.policy.retries(answer.as_ref().map(|(status, headers)| (*status, headers)));
                let empty = HeaderMap::new();
                let headers = answer.as_ref().map_or(&empty, |(_, headers)| headers);
                let advice = config.policy.delay(
                    retries_so_far,
                    headers,
                    jitter.random(),
                    SystemTime::now(),
                    config.speed,
                );
                last = (outcome, route.upstream, head);
                match advice {
                    RetryAdvice::Wait(wait) if retry => tokio::time::sleep(wait).await,
                    _ => break,
                }
            }
        }
        let (outcome, served_by, head) = last;
        let answer = head.map(AnswerTiming::head_only);
        Completion { outcome, attempts, sent, served_by, answer, gaps_us: Vec::new() }
    }

    async fn attempt(
        &self,
        to: &Destination<'_>,
        id: u64,
        retry_count: u32,
        body: Bytes,
        stream: bool,
    ) -> Attempt {
        let (clock, family) = (self.clock, to.family);
        let failed = |outcome| Attempt::Failed { outcome, answer: None, head: None };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = to.endpoint.paths[usize::from(family == ApiFamily::Anthropic)].clone();
        let headers = request.headers_mut();
        body::authenticate(headers, family, to.credentials);
        if let Some(host) = to.endpoint.connections.host() {
            headers.insert(header::HOST, host.clone());
        }
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CORRELATION, HeaderValue::from(id));
        headers.insert(RETRY_COUNT, HeaderValue::from(retry_count));
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let connections = &to.endpoint.connections;
        let (response, connection) =
            match tokio::time::timeout_at(deadline, connections.send(request, Busy::Wait)).await {
                Err(_) => return failed(Outcome::Timeout),
                Ok(Err(_)) => return failed(Outcome::ConnectionError),
                Ok(Ok(sent)) => sent,
            };
        let head = clock.elapsed();
        let (parts, incoming) = response.into_parts();
        let event_stream = stream && crate::proxy::is_event_stream(&parts.headers);
        let reading = observe(incoming, family, event_stream, clock);
        let observation = tokio::time::timeout_at(deadline, reading).await;
        if observation.as_ref().is_ok_and(|seen| seen.end != BodyEnd::Broken) {
            // Read to its end: the connection is free for the next request.
            connections.keep(connection);
        }
        let status = parts.status.as_u16();
        match observation {
            Ok(observation) if parts.status.is_success() => {
                let outcome = match observation.end {
                    BodyEnd::Complete => Outcome::Ok,
                    BodyEnd::Cut => Outcome::StreamCut,
                    BodyEnd::Broken => {
                        return Attempt::Failed {
                            outcome: Outcome::ConnectionError,
                            answer: None,
                            head: Some(head),
                        }
                    }
                };
                Attempt::Answered { outcome, head, observation: Some(observation) }
            }
            Ok(_) => Attempt::Failed {
                outcome: Outcome::HttpError(status),
                answer: Some((status, parts.headers)),
                head: Some(head),
            },
            // The head came, the body did not finish in time: an answered stream is the user's,
            // so its timeout is final; anything else may be retried.
            Err(_) if parts.status.is_success() && event_stream => {
                Attempt::Answered { outcome: Outcome::Timeout, head, observation: None }
            }
            Err(_) => Attempt::Failed { outcome: Outcome::Timeout, answer: None, head: Some(head) },
        }
    }
}

/// The completion of a request whose final answer had a 2xx head.
fn answered(
    outcome: Outcome,
    attempts: u32,
    served_by: Option<usize>,
    head: Duration,
    observation: Option<Observation>,
) -> Completion {
    let Some(observation) = observation else {
        return Completion {
            outcome,
            attempts,
            sent: None,
            served_by,
            answer: Some(AnswerTiming::head_only(head)),
            gaps_us: Vec::new(),
        };
    };
    let answer = AnswerTiming {
        head,
        first_token: observation.first_token,
        longest_gap: observation.longest_gap(),
        output_tokens: observation.output_tokens,
    };
    Completion {
        outcome,
        attempts,
        sent: None,
        served_by,
        answer: Some(answer),
        gaps_us: observation.gaps_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_cannot_be_a_header_is_refused_up_front_without_being_named() {
        let route = |key: &str| Route {
            base: "http://127.0.0.1:9".parse().unwrap(),
            family: Some(ApiFamily::OpenAi),
            api_keys: vec!["sk-good".to_owned(), key.to_owned()],
            upstream: None,
        };
        let config = |key| ClientConfig {
            routes: vec![route(key)],
            retries: 0,
            policy: RetryPolicy::default(),
            timeout: Duration::from_secs(1),
            seed: 1,
            speed: crate::speed::Speed::REAL_TIME,
        };
        let clock = RunClock::start_now();
        assert!(LoadClient::new(config("sk-also-good"), clock).is_ok());
        let error = LoadClient::new(config("sk-secret\nx"), clock).unwrap_err().to_string();
        assert!(error.contains("key 2") && !error.contains("sk-secret"), "{error}");
    }
}
