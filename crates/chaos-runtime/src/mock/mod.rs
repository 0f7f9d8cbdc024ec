//! Built-in mock providers: real HTTP servers on loopback speaking a provider's wire format,
//! with a latency model, provider-style rate limits, an overload mode, and counts of what they
//! received per key and model.
//!
//! [`MockBuilder`] starts one and returns a [`MockHandle`] with its address, its
//! counters and, when asked, every request it saw.
//!
//! Layout: `serve` (the request flow) · `dialect` + `openai` / `anthropic` / `azure` / `gemini` /
//! `bedrock` (wire formats) ·
//! `generation` + `latency` (what to say and when) · `paced` (streams written on time) ·
//! `limits` (token buckets) · `counters`.

mod anthropic;
mod anthropic_tools;
mod azure;
pub mod bare;
mod bedrock;
mod bedrock_tools;
mod counters;
mod dialect;
mod gemini;
mod generation;
pub mod latency;
mod openai;
mod openai_embeddings;
mod openai_responses;
mod openai_tools;
mod paced;
mod serve;
mod template;
mod tool_arguments;
mod tool_call;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use rand::{rngs::StdRng, SeedableRng};
use tokio::net::TcpListener;

pub use crate::ratelimit::RateLimits;
pub use crate::scenario::mock_answer::{LatencyModel, OutputLength};
pub use counters::{key_id, Counters, CountsRow, Tally};
pub use serve::{COUNTS_PATH, TIMING_PATH};

use crate::{
    fault::{Chain, FaultRule},
    wire::ApiFamily,
};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub body: Bytes,
}

/// How a mock behaves.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub family: ApiFamily,
    /// Accepted API keys; empty means any non-empty key is accepted.
    pub keys: Vec<String>,
    /// Models listed by `GET /v1/models`.
    pub models: Vec<String>,
    pub latency: LatencyModel,
    pub output: OutputLength,
    /// Per key and model.
    pub limits: RateLimits,
    /// Chance per request of answering "overloaded" (OpenAI 503, Anthropic 529).
    pub overload: f64,
    /// Faults the mock applies itself, after reading the request (`chaos mock --fault`).
    pub faults: Vec<FaultRule>,
    /// Seeds output lengths, jitter, overload and fault draws.
    pub seed: u64,
    /// Keep every request for [`MockHandle::seen`] (tests only: it holds every body).
    pub record_requests: bool,
}

/// Starts mock providers.
#[derive(Debug, Clone)]
pub struct MockBuilder {
    config: MockConfig,
    connections: crate::net::ConnectionLimits,
}

impl MockBuilder {
    pub fn new(family: ApiFamily) -> Self {
        MockBuilder {
            config: MockConfig {
                family,
                keys: Vec::new(),
                models: Vec::new(),
                latency: LatencyModel::default(),
                output: OutputLength::UpToLimit,
                limits: RateLimits::default(),
                overload: 0.0,
                faults: Vec::new(),
                seed: 0,
                record_requests: false,
            },
            connections: crate::net::ConnectionLimits::default(),
        }
    }

    pub fn config(mut self, config: MockConfig) -> Self {
        self.config = config;
        self
    }

    pub fn keys(mut self, keys: Vec<String>) -> Self {
        self.config.keys = keys;
        self
    }

    pub fn models(mut self, models: Vec<String>) -> Self {
        self.config.models = models;
        self
    }

    pub fn latency(mut self, latency: LatencyModel) -> Self {
        self.config.latency = latency;
        self
    }

    pub fn output(mut self, output: OutputLength) -> Self {
        self.config.output = output;
        self
    }

    pub fn limits(mut self, limits: RateLimits) -> Self {
        self.config.limits = limits;
        self
    }

    pub fn overload(mut self, probability: f64) -> Self {
        self.config.overload = probability;
        self
    }

    pub fn faults(mut self, faults: Vec<FaultRule>) -> Self {
        self.config.faults = faults;
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    pub fn record_requests(mut self) -> Self {
        self.config.record_requests = true;
        self
    }

    /// How long clients may keep the mock waiting, and how many connections it holds.
    pub fn connection_limits(mut self, limits: crate::net::ConnectionLimits) -> Self {
        self.connections = limits;
        self
    }

    /// Binds `127.0.0.1:0` and serves until the handle is shut down or dropped.
    pub async fn spawn(self) -> std::io::Result<MockHandle> {
        self.serve(TcpListener::bind("127.0.0.1:0").await?)
    }

    /// Serves on a listener the caller bound, on the caller's runtime.
    pub fn serve(self, listener: TcpListener) -> std::io::Result<MockHandle> {
        let limits = self.connections;
        let (state, handle) = self.start();
        Ok(handle(crate::net::spawn(listener, limits, move |request| {
            serve::handle(Arc::clone(&state), request)
        })?))
    }

    /// Serves `addr` on `threads` shards, a current-thread runtime each (see
    /// [`crate::net::spawn_sharded`]); counts, limits and timings are shared by all.
    pub fn serve_sharded(self, addr: SocketAddr, threads: usize) -> std::io::Result<MockHandle> {
        let limits = self.connections;
        let (state, handle) = self.start();
        Ok(handle(crate::net::spawn_sharded(addr, threads, limits, |_| {
            let state = Arc::clone(&state);
            move |request| serve::handle(Arc::clone(&state), request)
        })?))
    }

    /// The state every connection shares, and what makes the handle once a server runs.
    fn start(self) -> (Arc<serve::MockState>, impl FnOnce(crate::net::ServerHandle) -> MockHandle) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let counters = Counters::default();
        let config = self.config;
        let dialect: Box<dyn dialect::Dialect> = match config.family {
            ApiFamily::OpenAi => Box::new(openai::OpenAi),
            ApiFamily::Anthropic => Box::new(anthropic::Anthropic),
            ApiFamily::Bedrock => Box::new(bedrock::Bedrock),
            ApiFamily::Azure => Box::new(azure::Azure),
            ApiFamily::Gemini => Box::new(gemini::Gemini),
        };
        let state = Arc::new(serve::MockState {
            limiter: crate::ratelimit::Limiter::new(config.limits),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            faults: Chain::new(config.faults.clone(), config.seed.wrapping_add(1)),
            lateness: paced::Lateness::default(),
            config,
            dialect,
            counters: counters.clone(),
            seen: Arc::clone(&seen),
        });
        let handle =
            move |server: crate::net::ServerHandle| MockHandle { addr: server.addr, seen, counters, server };
        (state, handle)
    }
}

/// A running mock provider.
#[derive(Debug)]
pub struct MockHandle {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    counters: Counters,
    server: crate::net::ServerHandle,
}

impl MockHandle {
    /// Every request seen so far (empty unless built with `record_requests`).
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// What the mock answered, per key and model.
    /// What the limits on clients' connections did so far (shed, timed out).
    pub fn connection_counts(&self) -> crate::net::ConnectionCounts {
        self.server.connection_counts()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Stops accepting and waits (boundedly) for open connections to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
