//! The runner: starts the mocks and interposers, gives each interposer its fault timeline
//! (it switches chains at the exact phase boundaries by the run clock), drives the load, walks
//! the phases, then drains, analyses and writes the results.
//!
//! One shutdown path: when `shutdown` resolves (Ctrl-C), load stops, faults are removed,
//! in-flight requests get a short drain, and results for what happened so far are written.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    analysis, assert,
    load::{self, BuiltinClient, ClientConfig, Schedule},
    metrics::{Recorder, RunClock},
    mock::{MockHandle, MockProvider},
    proxy::{self, Chain, InterposerConfig, InterposerHandle, TimedChain, Timeline},
    report::{run_folder, Results},
    scenario::Plan,
    wire::tokens,
};

/// The longest drain after an interrupt, whatever the scenario's `drain` says.
const INTERRUPT_DRAIN: Duration = Duration::from_secs(5);

/// Where and how a run writes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Folder under which each run gets `<scenario>-<timestamp>/`.
    pub reports_root: PathBuf,
}

/// A finished run: its results and the folder they were written to.
#[derive(Debug)]
pub struct RunReport {
    pub results: Results,
    pub folder: PathBuf,
}

/// Runs a plan end to end and writes its results.
pub async fn execute(
    plan: &Plan,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<RunReport> {
    let started = time::OffsetDateTime::now_utc();
    let wall = std::time::Instant::now();
    let recorder = Recorder::new();
    let clock = RunClock::start_now();

    let mut mocks: Vec<MockHandle> = Vec::with_capacity(plan.upstreams.len());
    for upstream in &plan.upstreams {
        let mock = MockProvider::builder(upstream.family)
            .keys(upstream.keys.clone())
            .models(vec![plan.load.model.clone()]);
        mocks.push(mock.spawn().await.context("starting a mock provider")?);
    }
    let mut interposers: Vec<InterposerHandle> = Vec::with_capacity(plan.upstreams.len());
    for (index, (upstream, mock)) in plan.upstreams.iter().zip(&mocks).enumerate() {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding an interposer")?;
        let config = InterposerConfig {
            upstream: index,
            upstream_uri: format!("http://{}", mock.addr).parse()?,
            family: upstream.family,
            clock,
            recorder: recorder.clone(),
        };
        interposers.push(proxy::spawn(listener, config)?);
    }

    let target = plan.client.upstream;
    let client = BuiltinClient::new(ClientConfig {
        base: format!("http://{}", interposers[target].addr).parse()?,
        api_key: plan.upstreams[target].keys[0].clone(),
        model: plan.load.model.clone(),
        prompt: Arc::from(tokens::prompt_text(u64::from(plan.load.prompt_tokens))),
        max_tokens: plan.load.max_tokens,
        retries: plan.client.retries,
        timeout: plan.client.timeout,
        seed: plan.seed,
    })?;

    for (upstream, interposer) in interposers.iter().enumerate() {
        interposer.set_timeline(timeline(plan, upstream));
    }
    let (stop_load, load_stopped) = watch::channel(false);
    let schedule = Schedule::new(plan.load.process, plan.load.rate, plan.seed);
    let load = load::start(schedule, plan.duration(), client, clock, recorder.clone(), load_stopped);

    let mut shutdown = std::pin::pin!(shutdown);
    let mut interrupted = false;
    for phase in &plan.phases {
        tracing::info!(phase = %phase.name, "phase started");
        tokio::select! {
            () = tokio::time::sleep_until(clock.at(phase.end())) => {}
            () = &mut shutdown => {
                interrupted = true;
                break;
            }
        }
    }
    let _ = stop_load.send(true);
    if interrupted {
        for interposer in &interposers {
            interposer.set_chain(plan.phase_at(clock.elapsed()), Chain::empty());
        }
    }
    let load = load.await.context("the load generator stopped unexpectedly")?;
    let drain = if interrupted { plan.load.drain.min(INTERRUPT_DRAIN) } else { plan.load.drain };
    load.drain(drain).await;
    for interposer in interposers {
        interposer.shutdown().await;
    }
    for mock in mocks {
        mock.shutdown().await;
    }

    let analysis = analysis::analyze(plan, &recorder.snapshot());
    let checks = assert::evaluate(&plan.expectations, &analysis);
    let verdict = assert::verdict(&checks, interrupted);
    let started_at = started.format(&time::format_description::well_known::Rfc3339)?;
    let results =
        Results::new(plan, started_at, wall.elapsed().as_secs_f64(), interrupted, analysis, checks, verdict);
    let stamp =
        started.format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))?;
    let folder = run_folder(&options.reports_root, &plan.name, &stamp);
    results.write(&folder)?;
    Ok(RunReport { results, folder })
}

/// One upstream's chains for every phase, each with its own seed.
fn timeline(plan: &Plan, upstream: usize) -> Timeline {
    let entries = plan
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| TimedChain {
            phase: index,
            until: phase.end(),
            chain: Chain::new(phase.faults[upstream].clone(), chain_seed(plan.seed, index, upstream)),
        })
        .collect();
    Timeline::new(entries)
}

/// A distinct, reproducible seed for each phase and upstream.
fn chain_seed(seed: u64, phase: usize, upstream: usize) -> u64 {
    seed ^ ((phase as u64) << 32 | upstream as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
