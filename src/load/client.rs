//! The built-in client: sends one logical request as an official SDK would, retrying with the
//! SDKs' policy ([`super::retry`]), and reports how it ended.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use http::{header, HeaderMap, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::json;

use super::retry;
use crate::{
    metrics::Outcome,
    proxy::{CORRELATION_HEADER, RETRY_COUNT_HEADER},
};

/// What the built-in client sends and how it retries.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of the target, e.g. `http://127.0.0.1:41000`.
    pub base: Uri,
    pub api_key: String,
    pub model: String,
    /// Content of the user message (sized to the scenario's `prompt_tokens`).
    pub prompt: Arc<str>,
    pub max_tokens: Option<u32>,
    /// Ask for a streamed answer (read to its end; TTFT is not measured yet).
    pub stream: bool,
    /// Retries after the first attempt (the SDKs default to 2).
    pub retries: u32,
    /// Whose retry behaviour to emulate.
    pub profile: retry::SdkProfile,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Seeds the backoff jitter; each logical request mixes in its id.
    pub seed: u64,
}

/// How one logical request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub outcome: Outcome,
    pub attempts: u32,
}

/// What one attempt produced.
enum Attempt {
    Done,
    Failed { outcome: Outcome, headers: Option<HeaderMap> },
}

/// An SDK-like client over a pooled keep-alive connection.
#[derive(Debug, Clone)]
pub struct BuiltinClient {
    config: Arc<ClientConfig>,
    http: Client<HttpConnector, Full<Bytes>>,
    url: Uri,
}

impl BuiltinClient {
    pub fn new(config: ClientConfig) -> anyhow::Result<Self> {
        let url = format!("{}/v1/chat/completions", config.base.to_string().trim_end_matches('/')).parse()?;
        let http = crate::net::http_client();
        Ok(BuiltinClient { config: Arc::new(config), http, url })
    }

    /// Sends logical request `id`, retrying as the SDKs do.
    pub async fn send(&self, id: u64) -> Completion {
        let config = &self.config;
        let mut jitter = StdRng::seed_from_u64(config.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let body = Bytes::from(self.body(id));
        let mut attempts = 0;
        loop {
            attempts += 1;
            let retries_so_far = attempts - 1;
            let (outcome, headers) = match self.attempt(id, retries_so_far, body.clone()).await {
                Attempt::Done => return Completion { outcome: Outcome::Ok, attempts },
                Attempt::Failed { outcome, headers } => (outcome, headers),
            };
            let retryable = match (&outcome, &headers) {
                (Outcome::HttpError(status), Some(headers)) => retry::should_retry(*status, headers),
                _ => true,
            };
            if !retryable || retries_so_far >= config.retries {
                return Completion { outcome, attempts };
            }
            let empty = HeaderMap::new();
            let headers = headers.as_ref().unwrap_or(&empty);
            match retry::retry_delay(
                config.profile,
                retries_so_far,
                headers,
                jitter.random(),
                SystemTime::now(),
            ) {
                retry::RetryAdvice::Wait(wait) => tokio::time::sleep(wait).await,
                retry::RetryAdvice::GiveUp => return Completion { outcome, attempts },
            }
        }
    }

    fn body(&self, id: u64) -> Vec<u8> {
        let config = &self.config;
        let mut body = json!({
            "model": config.model,
            "messages": [{ "role": "user", "content": &*config.prompt }],
            "user": format!("chaos-{id}"),
        });
        if let Some(max_tokens) = config.max_tokens {
            body["max_completion_tokens"] = max_tokens.into();
        }
        if config.stream {
            body["stream"] = true.into();
            body["stream_options"] = json!({ "include_usage": true });
        }
        body.to_string().into_bytes()
    }

    async fn attempt(&self, id: u64, retries_so_far: u32, body: Bytes) -> Attempt {
        let config = &self.config;
        let request = Request::post(self.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {}", config.api_key))
            .header(CORRELATION_HEADER, id.to_string())
            .header(RETRY_COUNT_HEADER, retries_so_far.to_string())
            .body(Full::new(body));
        let Ok(request) = request else {
            return Attempt::Failed { outcome: Outcome::ConnectionError, headers: None };
        };
        let exchange = async {
            let response = self.http.request(request).await.map_err(|_| Outcome::ConnectionError)?;
            let (parts, body) = response.into_parts();
            crate::net::read_body(body).await.map_err(|_| Outcome::ConnectionError)?;
            Ok::<_, Outcome>(parts)
        };
        match tokio::time::timeout(config.timeout, exchange).await {
            Err(_) => Attempt::Failed { outcome: Outcome::Timeout, headers: None },
            Ok(Err(outcome)) => Attempt::Failed { outcome, headers: None },
            Ok(Ok(parts)) if parts.status.is_success() => Attempt::Done,
            Ok(Ok(parts)) => Attempt::Failed {
                outcome: Outcome::HttpError(parts.status.as_u16()),
                headers: Some(parts.headers),
            },
        }
    }
}
