//! `chaos`: a chaos-testing harness for LLM gateways and clients.
//!
//! Layout, following the flow of data (see `../shared/DESIGN.md`):
//! - [`cli`], [`exit`] — arguments and exit codes; [`run`] is the entry point.
//! - [`scenario`] — YAML → checked [`scenario::Plan`], errors at `file:line:column`;
//!   [`units`] — human units (`250ms`, `20/s`, `99.9%`, `0.15/M`).
//! - [`mock`] — built-in provider mocks; [`wire`] — provider wire formats they share with faults.
//! - [`proxy`] — the interposer and its faults (pure decisions, one file each).
//! - [`load`] — open-model schedule and the SDK-like built-in client.
//! - [`metrics`] — records and the run clock; [`analysis`] — figures per phase;
//!   [`assert`] — expectations and the verdict; [`report`] — `results.json` and the table.
//! - [`runner`] — starts everything, walks the phases, writes the results.
//! - [`net`] — the shared HTTP serve loop and body helpers.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod assert;
pub mod cli;
pub mod exit;
pub mod load;
pub mod metrics;
pub mod mock;
pub mod net;
pub mod proxy;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod units;
pub mod wire;

use std::io::Write;

pub use cli::{Cli, Command};
pub use exit::Exit;

/// Runs one command and returns how to exit. Errors the user can act on (an invalid scenario)
/// are printed and turned into their exit code; only harness failures are `Err`.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Validate { file } => Ok(match scenario::load(&file) {
            Ok(plan) => {
                println!("ok: {}", plan.summary());
                Exit::Pass
            }
            Err(error) => invalid(&error),
        }),
        Command::Run { file, reports } => {
            let plan = match scenario::load(&file) {
                Ok(plan) => plan,
                Err(error) => return Ok(invalid(&error)),
            };
            println!("running {}", plan.summary());
            let options = runner::RunOptions { reports_root: reports };
            let interrupt = async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let report = runner::execute(&plan, &options, interrupt).await?;
            print!("{}", report::render_table(&report.results));
            println!("results: {}", report.folder.join("results.json").display());
            let _ = std::io::stdout().flush();
            Ok(exit_for(report.results.verdict))
        }
    }
}

fn invalid(error: &scenario::ScenarioError) -> Exit {
    eprintln!("error: {error}");
    Exit::InvalidScenario
}

/// The exit code for a verdict.
pub fn exit_for(verdict: assert::Verdict) -> Exit {
    match verdict {
        assert::Verdict::Pass => Exit::Pass,
        assert::Verdict::Fail => Exit::Failed,
        assert::Verdict::Inconclusive => Exit::InvalidRun,
        assert::Verdict::Interrupted => Exit::Interrupted,
    }
}
