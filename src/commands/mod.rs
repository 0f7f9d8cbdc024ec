//! One function per subcommand; each turns its arguments into an [`Exit`].

mod bench;
mod merge;
mod mock;
mod proxy;
mod report;
mod run;
mod schema;

pub use bench::bench;
pub use merge::merge;
pub use mock::mock;
pub use proxy::proxy;
pub use report::report;
pub use run::{exit_for, run, validate, Calibrate, RunHow};
pub use schema::schema;

use crate::{scenario::ScenarioError, Exit};

/// Prints a scenario error and returns the "invalid scenario" exit.
fn invalid(error: &ScenarioError) -> Exit {
    eprintln!("error: {error}");
    Exit::InvalidScenario
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM — what a person and what a CI runner or
/// a process supervisor send to stop a run — and never, for a signal that cannot be watched.
pub async fn interrupted() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
