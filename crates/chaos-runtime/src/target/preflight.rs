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

use std::{collections::BTreeMap, os::fd::AsFd, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, time::Instant};

use crate::{
    load::{ClientConfig, LoadClient},
    metrics::{Outcome, Recorder, RunClock},
    mock::{MockBuilder, MockHandle},
    proxy::{self, InterposerConfig, InterposerHandle},
    scenario::{
        request_mix::{RequestMix, RequestSpec},
        Plan,
    },
    wire::tokens,
};

/// The fewest probes that go through the target: one for each kind of request in the load's
/// mix (each model may be routed its own way), and at least this many.
pub const PROBES: usize = 3;
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
    /// The model it asked the target for.
    pub model: String,
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
    /// id: the target drops `x-chaos-request-id`, or sent requests of its own; by upstream.
    pub uncorrelated: Vec<usize>,
    /// How long the preflight took.
    pub took: Duration,
}

impl Preflight {
    /// Whether every probe reached an interposer: each by its id, or — when no probe's id came
    /// through, the target dropping them — as many id-less requests as probes were sent.
    pub fn passed(&self) -> bool {
        match self.ids_dropped() {
            true => self.uncorrelated.len() >= self.probes.len(),
            false => self.probes.iter().all(|probe| !probe.reached.is_empty()),
        }
    }

    /// Whether the probes arrived without their correlation id: none came with it, some came.
    pub fn ids_dropped(&self) -> bool {
        self.probes.iter().all(|probe| probe.reached.is_empty()) && !self.uncorrelated.is_empty()
    }

    /// The upstreams (indices in the plan) whose interposers the probes reached, in order.
    pub fn reached_upstreams(&self) -> Vec<usize> {
        let mut reached: Vec<usize> = match self.ids_dropped() {
            true => self.uncorrelated.clone(),
            false => self.probes.iter().flat_map(|probe| probe.reached.iter().copied()).collect(),
        };
        reached.sort_unstable();
        reached.dedup();
        reached
    }

    /// Probes that reached an interposer (by count, when the target drops ids).
    pub fn reached(&self) -> usize {
        match self.ids_dropped() {
            true => self.uncorrelated.len().min(self.probes.len()),
            false => self.probes.iter().filter(|probe| !probe.reached.is_empty()).count(),
        }
    }
}

/// Sends probes (see [`PROBES`]) through the target `client` reaches, with interposers of the
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
            connections: Default::default(),
        };
        let interposer = proxy::spawn(shared(listener)?, config)?;
        stand_ins.push((interposer, mock));
    }
    let client = ClientConfig { retries: 0, timeout: PROBE_TIMEOUT, ..client.clone() };
    let client = LoadClient::new(client, clock)?;
    let prompt = tokens::prompt_text(u64::from(plan.load.mix.largest_prompt()));
    let specs = probe_specs(&plan.load.mix, plan.seed);
    let mut outcomes = Vec::with_capacity(specs.len());
    for (spec, id) in specs.iter().zip(PROBE_IDS..) {
        let sent = tokio::time::timeout(PROBE_TIMEOUT, client.send(id, spec, &prompt)).await;
        outcomes.push(sent.map_or(Outcome::Timeout, |completion| completion.outcome));
    }
    let ids = PROBE_IDS..PROBE_IDS + specs.len() as u64;
    let each_recorded = |records: &crate::metrics::Records| {
        ids.clone().all(|id| records.attempts.iter().any(|attempt| attempt.logical_id == Some(id)))
    };
    // A probe's record is written as its answer's body goes back, which a gateway may pass on a
    // moment before: wait for every probe's, a little.
    let waited = Instant::now();
    let mut records = recorder.snapshot();
    while !each_recorded(&records) && waited.elapsed() < RECORD_WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
        records = recorder.snapshot();
    }
    stop(stand_ins).await;
    let probes = specs
        .iter()
        .zip(outcomes)
        .zip(ids)
        .map(|((spec, outcome), id)| ProbeResult {
            model: spec.model.to_string(),
            outcome,
            reached: records
                .attempts
                .iter()
                .filter(|attempt| attempt.logical_id == Some(id))
                .map(|attempt| attempt.upstream)
                .collect(),
        })
        .collect();
    let uncorrelated = records
        .attempts
        .iter()
        .filter(|attempt| attempt.generation && attempt.logical_id.is_none())
        .map(|attempt| attempt.upstream)
        .collect();
    Ok(Preflight { probes, uncorrelated, took: began.elapsed() })
}

/// One request of each kind in `mix` (as the load would draw it), then more of the same until
/// there are [`PROBES`].
fn probe_specs(mix: &RequestMix, seed: u64) -> Vec<RequestSpec> {
    let kinds = mix.kinds().len();
    let mut by_kind = BTreeMap::new();
    for id in 0..10_000 {
        let (kind, spec) = mix.pick(seed, id);
        by_kind.entry(kind).or_insert(spec);
        if by_kind.len() == kinds {
            break;
        }
    }
    let drawn: Vec<RequestSpec> = by_kind.into_values().collect();
    let wanted = drawn.len().max(PROBES);
    drawn.iter().cycle().take(wanted).cloned().collect()
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

    fn found(reached: &[&[usize]], uncorrelated: usize) -> Preflight {
        let probes = reached
            .iter()
            .map(|upstreams| ProbeResult {
                model: "m".into(),
                outcome: Outcome::Ok,
                reached: upstreams.to_vec(),
            })
            .collect();
        Preflight { probes, uncorrelated: vec![1; uncorrelated], took: Duration::ZERO }
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
        assert!(!found(&[&[0], &[], &[0]], 1).passed(), "a health check does not stand in for a probe");
        assert_eq!((dropped.reached(), dropped.reached_upstreams()), (3, vec![1]), "counted where they came");
        assert_eq!(found(&[&[0], &[2], &[0]], 0).reached_upstreams(), [0, 2]);
    }
}
