//! The preflight: before the clock starts, a few probe requests go through the target, and each
//! must reach an interposer. A gateway whose base URL goes around the interposers (straight to
//! the provider, or to a mock of its own) would otherwise be measured under faults that never
//! touch it.
//!
//! The probes are not part of the run. They reach interposers of their own, on the same
//! listening sockets as the run's (so the target cannot tell), each forwarding to a preflight
//! mock of its upstream's family that answers at once: the run's mocks never count them, a real
//! provider never bills them, and the run's records never see them. Each carries a correlation
//! id from a range the load never uses ([`PROBE_IDS`]). When the preflight ends, its
//! interposers close every connection the target kept open to them, and the run's take the
//! sockets over.

use std::{
    os::fd::AsFd,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    load::{ClientConfig, LoadClient},
    metrics::{Outcome, Recorder, RunClock},
    mock::{MockBuilder, MockHandle},
    proxy::{self, InterposerConfig, InterposerHandle},
    scenario::Plan,
    wire::tokens,
};

/// How many probes go through the target.
pub const PROBES: u64 = 3;
/// The first probe's correlation id: far above any id the load gives (it counts from 0).
pub const PROBE_IDS: u64 = 1 << 62;
/// How long one probe may take through the target.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long after a probe's answer its attempt record is waited for (it is written when the
/// answer's body has gone back, which a gateway may pass on a moment before).
const RECORD_WAIT: Duration = Duration::from_millis(500);

/// What one probe did.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// How the target answered it.
    pub outcome: Outcome,
    /// The upstreams (indices in the plan) whose interposer saw it, one entry per attempt.
    pub reached: Vec<usize>,
}

/// What the preflight found.
#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    pub probes: Vec<ProbeResult>,
    /// Generation requests that reached a preflight interposer without a probe's correlation
    /// id: the target drops `x-chaos-request-id`, or sent requests of its own.
    pub uncorrelated: u64,
    /// How long the preflight took.
    pub took: Duration,
}

impl Preflight {
    /// Whether every probe reached an interposer (by its id, or — when the target drops the id —
    /// as many uncorrelated requests arrived as probes were sent).
    pub fn passed(&self) -> bool {
        let correlated = self.probes.iter().all(|probe| !probe.reached.is_empty());
        let unjoined = self.probes.iter().filter(|probe| probe.reached.is_empty()).count() as u64;
        correlated || self.uncorrelated >= unjoined
    }

    /// Whether the probes arrived without their correlation id.
    pub fn ids_dropped(&self) -> bool {
        self.probes.iter().all(|probe| probe.reached.is_empty()) && self.uncorrelated > 0
    }
}

/// Sends [`PROBES`] probes through the target `client` reaches, with interposers of the
/// preflight's own on `listeners` (the run's, in upstream order), and says what reached them.
pub async fn run(plan: &Plan, listeners: &[TcpListener], client: &ClientConfig) -> anyhow::Result<Preflight> {
    let began = Instant::now();
    let clock = RunClock::start_now();
    let recorder = Recorder::new();
    let mut stand_ins = Vec::with_capacity(listeners.len());
    for (index, (upstream, listener)) in plan.upstreams.iter().zip(listeners).enumerate() {
        let mock = MockBuilder::new(upstream.family)
            .models(plan.load.mix.kinds().iter().map(|kind| kind.billed_model.to_string()).collect())
            .spawn()
            .await
            .context("starting a preflight mock")?;
        let config = InterposerConfig {
            upstream_index: index,
            upstream_uri: format!("http://{}", mock.addr).parse()?,
            family: upstream.family,
            keys: Vec::new(),
            clock,
            recorder: recorder.clone(),
            replay: None,
            tls: Default::default(),
            // The preflight's mock takes any key: none is swapped in.
            upstream_key: None,
        };
        let interposer = proxy::spawn(shared(listener)?, config)?;
        stand_ins.push((interposer, mock));
    }
    let client = ClientConfig { retries: 0, timeout: PROBE_TIMEOUT, ..client.clone() };
    let client = LoadClient::new(client, clock)?;
    let prompt = tokens::prompt_text(u64::from(plan.load.mix.largest_prompt()));
    let mut outcomes = Vec::with_capacity(PROBES as usize);
    for probe in 0..PROBES {
        let (_kind, spec) = plan.load.mix.pick(plan.seed, probe);
        let sent = tokio::time::timeout(PROBE_TIMEOUT, client.send(PROBE_IDS + probe, &spec, &prompt)).await;
        outcomes.push(sent.map_or(Outcome::Timeout, |completion| completion.outcome));
    }
    let mut records = recorder.snapshot();
    let waited = Instant::now();
    while records.attempts.len() < outcomes.len() && waited.elapsed() < RECORD_WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
        records = recorder.snapshot();
    }
    stop(stand_ins).await;
    let probes = outcomes
        .into_iter()
        .zip(PROBE_IDS..)
        .map(|(outcome, id)| ProbeResult {
            outcome,
            reached: records
                .attempts
                .iter()
                .filter(|attempt| attempt.logical_id == Some(id))
                .map(|attempt| attempt.upstream)
                .collect(),
        })
        .collect();
    let uncorrelated =
        records.attempts.iter().filter(|attempt| attempt.generation && attempt.logical_id.is_none()).count();
    Ok(Preflight { probes, uncorrelated: uncorrelated as u64, took: began.elapsed() })
}

/// A second handle on `listener`'s socket: connections it accepts are the same socket's, and
/// `listener` keeps the socket (and whatever waits in its backlog) when this handle goes.
fn shared(listener: &TcpListener) -> std::io::Result<TcpListener> {
    let socket = std::net::TcpListener::from(listener.as_fd().try_clone_to_owned()?);
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket)
}

/// Stops the preflight's interposers (closing the connections the target kept to them) and
/// mocks.
async fn stop(stand_ins: Vec<(InterposerHandle, MockHandle)>) {
    for (interposer, mock) in stand_ins {
        interposer.shutdown().await;
        mock.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(reached: &[&[usize]], uncorrelated: u64) -> Preflight {
        let probes = reached
            .iter()
            .map(|upstreams| ProbeResult { outcome: Outcome::Ok, reached: upstreams.to_vec() })
            .collect();
        Preflight { probes, uncorrelated, took: Duration::ZERO }
    }

    #[test]
    fn every_probe_must_reach_an_interposer_by_its_id_or_by_count_when_ids_are_dropped() {
        assert!(found(&[&[0], &[0], &[1]], 0).passed(), "each reached one");
        assert!(!found(&[&[0], &[], &[0]], 0).passed(), "one went around");
        assert!(!found(&[&[], &[], &[]], 0).passed(), "all went around");
        let dropped = found(&[&[], &[], &[]], 3);
        assert!(dropped.passed() && dropped.ids_dropped(), "arrived without their ids");
        assert!(!found(&[&[], &[], &[]], 2).passed(), "fewer id-less arrivals than probes");
        assert!(!found(&[&[0], &[0], &[0]], 1).ids_dropped(), "a health check beside joined probes");
    }
}
