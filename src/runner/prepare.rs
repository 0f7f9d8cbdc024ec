//! Stage 1, prepare: everything a run needs before anything can reach the target — the run's
//! folder, the operations listeners, the journal, a mock provider per mock upstream and a bound
//! interposer listener for each upstream (bound first: `listen.rs`, after the `url` upstreams'
//! keys are read: `upstreams.rs`). Hands [`Prepared`] to [`super::start`]: the listeners'
//! addresses are what the target is told to use.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    metrics::{
        journal::{Journal, JournalWriter, QUEUE},
        Recorder,
    },
    mock::MockHandle,
    ops::OpsListeners,
    proxy::credential::UpstreamKey,
    report::run_folder,
    scenario::Plan,
};

use super::{journal_header, split::Role, RunOptions};

/// What the run keeps from its first moment to its results: when it started, the recorder every
/// record goes to, and the folder the results are written to.
pub(super) struct Bookkeeping {
    pub started: time::OffsetDateTime,
    pub wall: std::time::Instant,
    pub recorder: Recorder,
    pub folder: PathBuf,
    /// What the preflight found (a gateway target's), once it ran.
    pub preflight: Option<crate::results::Preflight>,
    /// The desk of a split run's upstreams role, where its load shards check in.
    pub split: Option<SplitDesk>,
}

/// The upstreams role's desk and the number of shards it coordinates.
pub(super) struct SplitDesk {
    pub shards: u32,
    pub desk: std::sync::Arc<super::split::desk::Desk>,
    pub server: crate::net::ServerHandle,
    /// The shards that handed no records over (the run is then invalid).
    pub missing: Vec<u32>,
    /// The shards stopped before their load's end (the run is then invalid too).
    pub stopped_early: Vec<u32>,
}

/// A prepared run: its bookkeeping, and the servers made ready but not yet serving the target.
pub(super) struct Prepared {
    pub books: Bookkeeping,
    pub ops: OpsListeners,
    pub journal_writer: JournalWriter,
    /// One mock provider per upstream, in the scenario's order; `None` for a `url` upstream.
    pub mocks: Vec<Option<MockHandle>>,
    /// The key each upstream's interposer presents in place of the target's, if any.
    pub upstream_keys: Vec<Option<UpstreamKey>>,
    /// One bound interposer listener per upstream, in the scenario's order, and their addresses.
    pub listeners: Vec<TcpListener>,
    pub addrs: Vec<SocketAddr>,
}

/// Reads the `url` upstreams' keys, creates the run's folder and journal, binds the operations
/// and interposer listeners and starts the mocks.
pub(super) async fn prepare(plan: &Plan, options: &RunOptions) -> anyhow::Result<Prepared> {
    // First, so a missing key or an address in use stops the run before its folder, journal or
    // mocks exist.
    let upstream_keys = super::upstreams::upstream_keys(plan)?;
    let listeners = super::listen::bind_interposers(plan).await?;
    let started = time::OffsetDateTime::now_utc();
    let wall = std::time::Instant::now();
    // A split run's requests arrive from its shards at the end: attempts are kept until then.
    let recorder = match options.role {
        Role::Upstreams { .. } => Recorder::keeping_gaps(),
        _ => Recorder::folding(plan.phase_ends()),
    };
    let stamp = crate::report::folder_stamp(started)?;
    let folder = run_folder(&options.reports_root, &plan.name, &stamp);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut ops = OpsListeners::bind(&options.ops).await?;
    let split = match options.role {
        Role::Upstreams { shards } => Some(open_desk(plan, shards, &mut ops)?),
        _ => None,
    };

    let (journal, journal_writer) =
        Journal::start(&folder.join("journal.ndjson"), &journal_header(plan), QUEUE)
            .with_context(|| format!("starting the journal in {}", folder.display()))?;
    recorder.journal_into(journal);

    let mocks = super::upstreams::start_mocks(plan, options.connections).await?;
    let addrs = listeners.iter().map(TcpListener::local_addr).collect::<Result<Vec<_>, _>>()?;
    if options.announce_interposers {
        for line in super::listen::gateway_lines(&plan.upstreams, &addrs) {
            println!("{line}");
        }
    }
    Ok(Prepared {
        books: Bookkeeping { started, wall, recorder, folder, preflight: None, split },
        ops,
        journal_writer,
        mocks,
        upstream_keys,
        listeners,
        addrs,
    })
}

/// Serves the desk of a split run on the `--control` listener, which it takes over.
fn open_desk(plan: &Plan, shards: u32, ops: &mut OpsListeners) -> anyhow::Result<SplitDesk> {
    let (listener, token) = ops
        .take_control()
        .context("--role upstreams needs --control ADDR: its load shards check in there")?;
    let digest = super::split::scenario_digest(&plan.source);
    let (desk, server) = super::split::desk::Desk::spawn(listener, shards, digest, token)?;
    Ok(SplitDesk { shards, desk, server, missing: Vec::new(), stopped_early: Vec::new() })
}
