//! Stage 1, prepare: everything a run needs before anything can reach the target — the run's
//! folder, the operations listeners, the journal, a mock provider per upstream and a bound
//! interposer listener for each (bound first: `listen.rs`). Hands [`Prepared`] to
//! [`super::start`]: the listeners' addresses are what the target is told to use.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    metrics::{
        journal::{Journal, JournalWriter, QUEUE},
        Recorder,
    },
    mock::{MockBuilder, MockHandle},
    ops::OpsListeners,
    report::run_folder,
    scenario::{plan::Upstream, Plan},
};

use super::{journal_header, RunOptions};

/// What the run keeps from its first moment to its results: when it started, the recorder every
/// record goes to, and the folder the results are written to.
pub(super) struct Bookkeeping {
    pub started: time::OffsetDateTime,
    pub wall: std::time::Instant,
    pub recorder: Recorder,
    pub folder: PathBuf,
}

/// A prepared run: its bookkeeping, and the servers made ready but not yet serving the target.
pub(super) struct Prepared {
    pub books: Bookkeeping,
    pub ops: OpsListeners,
    pub journal_writer: JournalWriter,
    /// One mock provider per upstream, in the scenario's order.
    pub mocks: Vec<MockHandle>,
    /// One bound interposer listener per upstream, in the scenario's order, and their addresses.
    pub listeners: Vec<TcpListener>,
    pub addrs: Vec<SocketAddr>,
}

/// Creates the run's folder and journal, binds the operations and interposer listeners and
/// starts the mocks.
pub(super) async fn prepare(plan: &Plan, options: &RunOptions) -> anyhow::Result<Prepared> {
    // First, so an address in use stops the run before its folder, journal or mocks exist.
    let listeners = super::listen::bind_interposers(plan).await?;
    let started = time::OffsetDateTime::now_utc();
    let wall = std::time::Instant::now();
    let recorder = Recorder::folding(plan.phase_ends());
    let stamp = crate::report::folder_stamp(started)?;
    let folder = run_folder(&options.reports_root, &plan.name, &stamp);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let ops = OpsListeners::bind(&options.ops).await?;

    let (journal, journal_writer) =
        Journal::start(&folder.join("journal.ndjson"), &journal_header(plan), QUEUE)
            .with_context(|| format!("starting the journal in {}", folder.display()))?;
    recorder.journal_into(journal);

    let mut mocks: Vec<MockHandle> = Vec::with_capacity(plan.upstreams.len());
    for (index, upstream) in plan.upstreams.iter().enumerate() {
        mocks.push(start_mock(plan, index, upstream).await.context("starting a mock provider")?);
    }
    let addrs = listeners.iter().map(TcpListener::local_addr).collect::<Result<Vec<_>, _>>()?;
    if options.announce_interposers {
        for line in super::listen::gateway_lines(&plan.upstreams, &addrs) {
            println!("{line}");
        }
    }
    Ok(Prepared {
        books: Bookkeeping { started, wall, recorder, folder },
        ops,
        journal_writer,
        mocks,
        listeners,
        addrs,
    })
}

async fn start_mock(plan: &Plan, index: usize, upstream: &Upstream) -> std::io::Result<MockHandle> {
    MockBuilder::new(upstream.family)
        .keys(upstream.keys.clone())
        .models(
            plan.load
                .mix
                .kinds()
                .iter()
                .map(|kind| kind.billed_model.to_string())
                .collect::<indexmap::IndexSet<_>>()
                .into_iter()
                .collect(),
        )
        .latency(upstream.latency)
        .output(upstream.output)
        .limits(upstream.limits)
        .overload(upstream.overload)
        .seed(plan.seed.wrapping_add(index as u64))
        .spawn()
        .await
}
