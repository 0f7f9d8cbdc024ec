//! One function per subcommand; each turns its arguments into an [`Exit`].

mod bench;
mod check;
mod compare;
mod listen;
mod merge;
mod mock;
mod proxy;
mod report;
mod run;
mod schema;
mod scorecard;
mod secrets;
mod serve_results;
mod split;

pub use bench::bench;
pub use check::check;
pub use compare::compare;
pub use merge::merge;
pub use mock::mock;
pub use proxy::proxy;
pub use report::report;
pub use run::{exit_for, run, validate, Calibrate, RunHow};
pub use schema::schema;
pub use scorecard::{scorecard, ScorecardHow};

use crate::{scenario::ScenarioError, Exit};

/// Prints a scenario error and returns the "invalid scenario" exit.
fn invalid(error: &ScenarioError) -> Exit {
    eprintln!("error: {error}");
    Exit::InvalidScenario
}

/// Prints a run's (or a preflight's) error that is the user's to fix and returns its exit: a
/// target that goes around the interposers (3), an address or a key that cannot be used (2).
/// `None` for the rest, harness failures.
fn user_exit(error: &anyhow::Error) -> Option<Exit> {
    if error.is::<crate::runner::PreflightFailed>() || error.is::<crate::runner::split::ShardsMissing>() {
        eprintln!("invalid: {error}");
        Some(Exit::InvalidRun)
    } else if error.is::<crate::runner::ListenError>() || error.is::<crate::runner::UpstreamKeyError>() {
        eprintln!("error: {error}");
        Some(Exit::InvalidScenario)
    } else {
        None
    }
}

/// What a standalone server's limits on connections did, as its closing summary says it:
/// `connections: {"open":0,"shed":12,"header_timeouts":3,"idle_timeouts":40,"handed_over":0}`.
fn connections_line(counts: crate::net::ConnectionCounts) -> String {
    format!("connections: {}", serde_json::to_string(&counts).unwrap_or_default())
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM — what a person and what a CI runner or
/// a process supervisor send to stop a run — and never, for a signal that cannot be watched.
pub fn interrupted() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Listening starts here, not at the first poll: a signal that comes between this call and
    // the first poll is still seen (and no longer ends the process the default way).
    let (ctrl_c, terminate) = (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok());
    async move {
        tokio::select! {
            () = heard(ctrl_c) => {}
            () = heard(terminate) => {}
        }
    }
}

/// Resolves when `listener` hears its signal; never without a listener.
async fn heard(listener: Option<tokio::signal::unix::Signal>) {
    match listener {
        Some(mut listener) => {
            listener.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
