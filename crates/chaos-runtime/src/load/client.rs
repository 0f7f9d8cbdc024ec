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
//!
//! An agent's task ([`super::agent`]) is one logical request of several calls, each sent as
//! above; every attempt of every call is an attempt of the task. The task stops at the first
//! call that does not end `Ok`, and ends as that call did; otherwise it ends as its last call,
//! its latency from the first call's send to the last call's end.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use http::{HeaderMap, Uri};
use rand::{rngs::SmallRng, Rng, SeedableRng};

use super::{
    agent,
    body::{self, Credentials, RequestSpec},
    observe::{observe_raw, BodyEnd, Observation},
};
use crate::{
    metrics::{AnswerTiming, Outcome, RunClock},
    net::http1::{ask, KeptConnections, Origin, Readiness},
    proxy::{CALL_HEADER, CORRELATION_HEADER, RETRY_COUNT_HEADER},
    scenario::request_mix::RequestEndpoint,
    scenario::{
        key_pool::KeyPool,
        retry::{RetryAdvice, RetryPolicy},
    },
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
    /// pool of keys in turn, or just one: [`KeyPool::index_for`]).
    pub api_keys: Vec<String>,
    /// The keys are the target's key pool: each request's key is recorded, for figures per key.
    pub pooled: bool,
    /// The plan's upstream behind this route, when the client talks to upstreams directly.
    pub upstream: Option<usize>,
    /// The model asked of this route instead of the request's (a fallback to another
    /// provider's model: what it answers and bills).
    pub model: Option<Arc<str>>,
}

impl std::fmt::Debug for Route {
    /// Everything but the key, which never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("base", &self.base)
            .field("family", &self.family)
            .field("api_keys", &format!("<{} redacted>", self.api_keys.len()))
            .field("upstream", &self.upstream)
            .field("pooled", &self.pooled)
            .field("model", &self.model)
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

/// Where an attempt goes, in which format, with which key and the request's own headers.
struct Destination<'a> {
    family: ApiFamily,
    credentials: &'a Credentials,
    endpoint: &'a Endpoints,
    /// The path on the route: its family's generation path, or OpenAI's embeddings.
    path: &'a Uri,
    /// The request's own header lines ([`body::Rendered`]).
    headers: &'a [u8],
    /// The call of an agent's task this is, sent as [`CALL_HEADER`].
    call: Option<u32>,
}

/// How to reach one route: its generation path for each family (origin-form), its `Host`, its
/// keys' headers and the connections to it.
struct Endpoints {
    /// OpenAI's, Anthropic's, then OpenAI's embeddings.
    paths: [Uri; 3],
    /// The base URL's path, before a path that names the model ([`body::model_path`]).
    prefix: String,
    /// `Host` naming the route (its port only when not HTTP's default, never userinfo).
    host: http::HeaderValue,
    /// The route's `api_keys`, in order.
    credentials: Arc<[Credentials]>,
    connections: KeptConnections,
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
        let prefix = base.path().trim_end_matches('/').to_owned();
        let path = |path| format!("{prefix}{path}").parse::<Uri>();
        anyhow::ensure!(
            base.scheme().is_none_or(|scheme| scheme == &http::uri::Scheme::HTTP),
            "{base}: the load generator speaks plain HTTP"
        );
        let names_no_host = || anyhow::anyhow!("{base} names no host");
        let origin = Origin::of_authority(base.authority().ok_or_else(names_no_host)?);
        Ok(Endpoints {
            paths: [
                path(body::path(ApiFamily::OpenAi))?,
                path(body::path(ApiFamily::Anthropic))?,
                path(super::embeddings_body::PATH)?,
            ],
            prefix,
            host: crate::net::host_header(base).ok_or_else(names_no_host)?,
            credentials: credentials.into(),
            connections: KeptConnections::new(origin),
        })
    }

    /// Where `spec` goes on this route in `family`: a fixed path, or one that names the model
    /// (percent-encoded, so it parses; `/` if not, which the provider answers with a 404).
    fn path_of(&self, family: ApiFamily, spec: &RequestSpec) -> std::borrow::Cow<'_, Uri> {
        match body::model_path(family, spec) {
            Some(own) => std::borrow::Cow::Owned(
                format!("{}{own}", self.prefix).parse().unwrap_or_else(|_| Uri::from_static("/")),
            ),
            None => std::borrow::Cow::Borrowed(&self.paths[path_index(family, spec)]),
        }
    }

    /// The same endpoints with no connections yet.
    fn without_connections(&self) -> Self {
        Endpoints {
            paths: self.paths.clone(),
            prefix: self.prefix.clone(),
            host: self.host.clone(),
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

/// What the calls of one logical request share: the backoff's draws, the attempts so far (each
/// attempt's number names its fault draws, [`RETRY_COUNT_HEADER`]) and the first send.
struct Task {
    jitter: SmallRng,
    attempts: u32,
    sent: Option<Duration>,
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

    /// The size of the target's key pool, when the first route presents one.
    pub fn key_pool(&self) -> Option<usize> {
        let route = &self.config.routes[0];
        route.pooled.then_some(route.api_keys.len())
    }

    /// How long one attempt may take, from its send to its last byte.
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// Sends logical request `id` asking for `spec`, with `prompt` as the longest prompt text:
    /// one call, or each call of an agent's task in turn.
    pub async fn send(&self, id: u64, spec: &RequestSpec, prompt: &str) -> Completion {
        let mut task = Task {
            jitter: SmallRng::seed_from_u64(self.config.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            attempts: 0,
            sent: None,
        };
        let steps = spec.agent.map_or(1, |agent| agent.steps);
        let mut step = 0;
        loop {
            let completion = self.call(id, spec, prompt, step, &mut task).await;
            step += 1;
            if step >= steps || completion.outcome != Outcome::Ok {
                return completion;
            }
        }
    }

    /// Call `step` of logical request `id`, over the routes with their retries.
    async fn call(
        &self,
        id: u64,
        spec: &RequestSpec,
        prompt: &str,
        step: u32,
        task: &mut Task,
    ) -> Completion {
        let config = &self.config;
        let Task { jitter, attempts, sent } = task;
        let mut last = (Outcome::ConnectionError, None, None);
        for (route, endpoint) in config.routes.iter().zip(self.endpoints.iter()) {
            let family = route.family.unwrap_or(spec.api);
            let credentials = &endpoint.credentials[KeyPool::index_for(id, endpoint.credentials.len())];
            let renamed =
                route.model.as_ref().map(|model| RequestSpec { model: Arc::clone(model), ..spec.clone() });
            let spec = renamed.as_ref().unwrap_or(spec);
            let body::Rendered { body, headers } =
                agent::render_call(family, spec, prompt, id, credentials.key(), step);
            let path = endpoint.path_of(family, spec);
            let call = spec.agent.map(|_| step);
            let to = Destination { family, credentials, endpoint, path: &path, headers: &headers, call };
            for retries_so_far in 0..=config.retries {
                *attempts += 1;
                sent.get_or_insert_with(|| self.clock.elapsed());
                let (outcome, answer, head) =
                    match self.attempt(&to, id, *attempts - 1, body.clone(), spec.stream).await {
                        Attempt::Answered { outcome, .. }
                            if outcome != Outcome::Ok
                                && retries_so_far < config.retries
                                && config.policy.retries_broken_answers() =>
                        {
                            continue;
                        }
                        Attempt::Answered { outcome, head, mut observation } => {
                            if matches!(spec.endpoint, RequestEndpoint::Embeddings { .. }) {
                                // Nothing is generated: an embedding has no first token.
                                observation.iter_mut().for_each(|seen| seen.first_token = None);
                            }
                            let mut completion =
                                answered(outcome, *attempts, route.upstream, head, observation);
                            completion.sent = *sent;
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
        Completion { outcome, attempts: *attempts, sent: *sent, served_by, answer, gaps_us: Vec::new() }
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
        let request = request_bytes(to, id, retry_count, &body);
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let connections = &to.endpoint.connections;
        let mut connection = connections.take();
        // A POST is not idempotent: one that went out is never sent again here (the retry
        // policy decides, as an SDK's would).
        let asked = ask(connections.origin(), &mut connection, &request, false, false, Readiness::Unseen);
        let mut parts = match tokio::time::timeout_at(deadline, asked).await {
            Err(_) => return failed(Outcome::Timeout),
            Ok(None) => return failed(Outcome::ConnectionError),
            Ok(Some(head)) => head,
        };
        let Some(mut connection) = connection else { return failed(Outcome::ConnectionError) };
        // Informational answers (103 Early Hints) are passed over, as the SDKs' clients do.
        while parts.status.is_informational() {
            bytes::Buf::advance(&mut connection.read, parts.head_len);
            match tokio::time::timeout_at(deadline, connection.next_head(false)).await {
                Ok(Some(next)) => parts = next,
                Ok(None) => return failed(Outcome::ConnectionError),
                Err(_) => return failed(Outcome::Timeout),
            }
        }
        let head = clock.elapsed();
        let event_stream = stream && crate::proxy::is_event_stream(&parts.headers);
        let reading = observe_raw(&mut connection, &parts, family, event_stream, clock);
        let observation = match tokio::time::timeout_at(deadline, reading).await {
            Ok((observation, whole)) => {
                if whole && connection.reusable(&parts) {
                    // Read to its end: the connection is free for the next request.
                    connections.keep(connection);
                }
                Ok(observation)
            }
            Err(elapsed) => Err(elapsed),
        };
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

/// Which of a route's [`Endpoints::paths`] `spec` goes to in `family` (where the path is fixed).
fn path_index(family: ApiFamily, spec: &RequestSpec) -> usize {
    match spec.endpoint {
        RequestEndpoint::Embeddings { .. } => 2,
        RequestEndpoint::Chat => usize::from(family == ApiFamily::Anthropic),
    }
}

/// An attempt's request as the SDKs send it: `POST` to the family's path, `Host`, the key, the
/// request's own headers, the JSON type, the correlation id and the retry count, then the body.
fn request_bytes(to: &Destination<'_>, id: u64, retry_count: u32, body: &[u8]) -> Vec<u8> {
    let mut request = Vec::with_capacity(256 + body.len());
    let mut number = itoa::Buffer::new();
    let path = to.path.path_and_query().map_or("/", |path| path.as_str());
    for part in [b"POST ", path.as_bytes(), b" HTTP/1.1\r\nhost: ", to.endpoint.host.as_bytes(), b"\r\n"] {
        request.extend_from_slice(part);
    }
    body::write_credentials(&mut request, to.family, to.credentials);
    request.extend_from_slice(to.headers);
    request.extend_from_slice(b"content-type: application/json\r\n");
    let call = to.call.map(|call| (CALL_HEADER, u64::from(call)));
    for (name, value) in [
        Some((CORRELATION_HEADER, id)),
        call,
        Some((RETRY_COUNT_HEADER, u64::from(retry_count))),
        Some(("content-length", body.len() as u64)),
    ]
    .into_iter()
    .flatten()
    {
        for part in [name, ": ", number.format(value), "\r\n"] {
            request.extend_from_slice(part.as_bytes());
        }
    }
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    request
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
            pooled: false,
            model: None,
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

    #[test]
    fn a_request_goes_out_as_the_sdks_send_it() {
        let route = |family| Route {
            base: "http://127.0.0.1:9100/gateway".parse().unwrap(),
            family: Some(family),
            api_keys: vec!["sk-k".to_owned()],
            upstream: None,
            pooled: false,
            model: None,
        };
        let chat = RequestEndpoint::Chat;
        let bearer = vec![("authorization", "Bearer sk-k")];
        for (family, asked, path, key_headers) in [
            (ApiFamily::OpenAi, chat, "/gateway/v1/chat/completions", bearer.clone()),
            (
                ApiFamily::Anthropic,
                chat,
                "/gateway/v1/messages",
                vec![("anthropic-version", "2023-06-01"), ("x-api-key", "sk-k")],
            ),
            (ApiFamily::OpenAi, RequestEndpoint::Embeddings { inputs: 2 }, "/gateway/v1/embeddings", bearer),
            (
                ApiFamily::Azure,
                chat,
                "/gateway/openai/deployments/m/chat/completions?api-version=2024-10-21",
                vec![("api-key", "sk-k")],
            ),
            (
                ApiFamily::Azure,
                RequestEndpoint::Embeddings { inputs: 2 },
                "/gateway/openai/deployments/m/embeddings?api-version=2024-10-21",
                vec![("api-key", "sk-k")],
            ),
            // A Bedrock API key goes as `Bearer`, as boto3 sends `AWS_BEARER_TOKEN_BEDROCK`.
            (ApiFamily::Bedrock, chat, "/gateway/model/m/converse", vec![("authorization", "Bearer sk-k")]),
        ] {
            let endpoint = Endpoints::new(&route(family)).expect("a route");
            let spec = RequestSpec {
                api: family,
                model: Arc::from("m"),
                stream: false,
                endpoint: asked,
                prompt_tokens: 1,
                max_tokens: None,
                shape: None,
                agent: None,
            };
            let to = Destination {
                family,
                credentials: &endpoint.credentials[0],
                endpoint: &endpoint,
                path: &endpoint.path_of(family, &spec),
                headers: b"x-team: a\r\n",
                call: None,
            };
            let bytes = request_bytes(&to, 42, 2, b"{\"x\":1}");
            let mut storage = [httparse::EMPTY_HEADER; 16];
            let mut request = httparse::Request::new(&mut storage);
            let head = match request.parse(&bytes).expect("HTTP/1.1") {
                httparse::Status::Complete(head) => head,
                httparse::Status::Partial => panic!("incomplete"),
            };
            assert_eq!((request.method, request.path, request.version), (Some("POST"), Some(path), Some(1)));
            let headers: Vec<(&str, &str)> = request
                .headers
                .iter()
                .map(|header| (header.name, std::str::from_utf8(header.value).unwrap()))
                .collect();
            let mut expected = vec![("host", "127.0.0.1:9100")];
            expected.extend(key_headers);
            expected.extend([
                ("x-team", "a"),
                ("content-type", "application/json"),
                (CORRELATION_HEADER, "42"),
                (RETRY_COUNT_HEADER, "2"),
                ("content-length", "7"),
            ]);
            assert_eq!(headers, expected);
            assert_eq!(&bytes[head..], b"{\"x\":1}");
        }
    }
}
