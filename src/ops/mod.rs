//! Game-day operations served while `chaos run` goes on: live Prometheus metrics
//! (`--metrics ADDR`, [`metrics_server`], [`exposition`]) and the control API (`--control ADDR`,
//! [`control`], with a toxiproxy-compatible subset in [`toxiproxy`]) that adds and removes
//! faults live ([`live_faults`]), skips a phase or stops the run.
//!
//! Both listen on loopback unless told otherwise: metrics beyond loopback need
//! `--metrics-allow-remote`; the control API beyond loopback needs `--control-token`, and with
//! a token every request must carry it. The token is never logged nor written to results (the
//! recorded command line redacts `--*token*` values). Neither does what a web page could ask
//! of it ([`browser_guard`]).

pub mod browser_guard;
pub mod control;
pub mod exposition;
pub mod http;
pub mod labels;
pub mod live_faults;
pub mod metrics_server;
pub mod state;
pub mod toxiproxy;

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::{net::TcpListener, sync::mpsc};

use crate::net::ServerHandle;

/// Where the operations servers listen, and the consent to go beyond loopback.
#[derive(Debug, Clone, Default)]
pub struct OpsOptions {
    pub metrics: Option<SocketAddr>,
    /// `--metrics-allow-remote`.
    pub metrics_allow_remote: bool,
    pub control: Option<SocketAddr>,
    /// `--control-token`: required beyond loopback, checked on every request once set.
    pub control_token: Option<String>,
}

impl OpsOptions {
    /// Why these options may not be used, if they may not: an address beyond loopback without
    /// consent, or an empty token.
    pub fn refusal(&self) -> Option<String> {
        if self.control_token.as_deref().is_some_and(|token| token.trim().is_empty()) {
            return Some("--control-token must not be empty".to_owned());
        }
        let metrics = self.metrics.and_then(|addr| {
            http::bind_refusal("--metrics", &addr, self.metrics_allow_remote, "--metrics-allow-remote")
        });
        let control = self.control.and_then(|addr| {
            http::bind_refusal(
                "--control",
                &addr,
                self.control_token.is_some(),
                "--control-token (a bearer token every request must carry)",
            )
        });
        metrics.or(control)
    }
}

/// The operations servers' listeners, bound before the run starts so a bad address fails it
/// at once.
#[derive(Debug)]
pub struct OpsListeners {
    metrics: Option<TcpListener>,
    control: Option<(TcpListener, Option<String>)>,
}

impl OpsListeners {
    /// Binds what `options` ask for, refusing what the loopback rule forbids.
    pub async fn bind(options: &OpsOptions) -> anyhow::Result<OpsListeners> {
        if let Some(refusal) = options.refusal() {
            anyhow::bail!(refusal);
        }
        let metrics = match options.metrics {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for --metrics on {addr}"))?,
            ),
            None => None,
        };
        let control = match options.control {
            Some(addr) => Some((
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for --control on {addr}"))?,
                options.control_token.clone(),
            )),
            None => None,
        };
        Ok(OpsListeners { metrics, control })
    }

    /// The control listener and its token, taken for another server (a split run's desk):
    /// the control API is then not served.
    pub fn take_control(&mut self) -> Option<(TcpListener, Option<String>)> {
        self.control.take()
    }

    /// Starts serving the run in `state`, and says where on stderr.
    pub fn start(
        self,
        state: &Arc<state::RunState>,
        live: &Arc<live_faults::LiveFaults>,
        interposers: Vec<SocketAddr>,
    ) -> std::io::Result<OpsServers> {
        let (sender, events) = mpsc::unbounded_channel();
        let mut servers = Vec::new();
        if let Some(listener) = self.metrics {
            let server = metrics_server::spawn(listener, Arc::clone(state))?;
            eprintln!("metrics: http://{}/metrics", server.addr);
            servers.push(server);
        }
        if let Some((listener, token)) = self.control {
            let control = control::Control {
                state: Arc::clone(state),
                live: Arc::clone(live),
                interposers,
                events: sender,
                token,
            };
            let server = control::spawn(listener, control)?;
            eprintln!("control: http://{}/", server.addr);
            servers.push(server);
        }
        Ok(OpsServers { events, servers })
    }
}

/// The operations servers of a run, and the events the control API sends its runner.
#[derive(Debug)]
pub struct OpsServers {
    pub events: mpsc::UnboundedReceiver<control::ControlEvent>,
    servers: Vec<ServerHandle>,
}

impl OpsServers {
    pub async fn shutdown(self) {
        for server in self.servers {
            server.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_api_beyond_loopback_needs_a_token() {
        let remote = Some("0.0.0.0:7000".parse().unwrap());
        let refused = OpsOptions { control: remote, ..OpsOptions::default() };
        assert!(refused.refusal().is_some_and(|why| why.contains("--control-token")));
        let allowed =
            OpsOptions { control: remote, control_token: Some("t0k".into()), ..OpsOptions::default() };
        assert_eq!(allowed.refusal(), None);
        let empty = OpsOptions { control_token: Some(" ".into()), ..OpsOptions::default() };
        assert!(empty.refusal().is_some());
        let metrics = OpsOptions { metrics: remote, ..OpsOptions::default() };
        assert!(metrics.refusal().is_some_and(|why| why.contains("--metrics-allow-remote")));
    }
}
