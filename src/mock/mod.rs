//! Built-in mock providers: real HTTP servers on loopback speaking a provider's wire format.
//!
//! [`MockProvider::builder`] starts one and returns a handle with its address and, when asked,
//! every request it saw (for tests that check what crossed the wire).

mod openai;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::wire::ApiFamily;

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
    /// Keep every request for [`MockHandle::seen`] (tests only: it holds every body).
    pub record_requests: bool,
}

/// Starts mock providers.
#[derive(Debug, Clone)]
pub struct MockProvider {
    config: MockConfig,
}

impl MockProvider {
    pub fn builder(family: ApiFamily) -> Self {
        MockProvider {
            config: MockConfig { family, keys: Vec::new(), models: Vec::new(), record_requests: false },
        }
    }

    pub fn keys(mut self, keys: Vec<String>) -> Self {
        self.config.keys = keys;
        self
    }

    pub fn models(mut self, models: Vec<String>) -> Self {
        self.config.models = models;
        self
    }

    pub fn record_requests(mut self) -> Self {
        self.config.record_requests = true;
        self
    }

    /// Binds `127.0.0.1:0` and serves until the handle is shut down or dropped.
    pub async fn spawn(self) -> std::io::Result<MockHandle> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(openai::MockState::new(self.config, Arc::clone(&seen)));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::net::serve(
            listener,
            move |request| openai::handle(Arc::clone(&state), request),
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(MockHandle { addr, seen, stop: Some(stop), task })
    }
}

/// A running mock provider.
#[derive(Debug)]
pub struct MockHandle {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MockHandle {
    /// Every request seen so far (empty unless built with `record_requests`).
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops accepting and waits for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
