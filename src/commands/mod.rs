//! One function per subcommand; each turns its arguments into an [`Exit`].

mod merge;
mod mock;
mod proxy;
mod report;
mod run;
mod schema;

pub use merge::merge;
pub use mock::mock;
pub use proxy::proxy;
pub use report::report;
pub use run::{exit_for, run, validate};
pub use schema::schema;

use crate::{scenario::ScenarioError, Exit};

/// Prints a scenario error and returns the "invalid scenario" exit.
fn invalid(error: &ScenarioError) -> Exit {
    eprintln!("error: {error}");
    Exit::InvalidScenario
}

/// A future that resolves on Ctrl-C (never, if the signal cannot be watched).
pub async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
