//! `chaos validate` and `chaos run`.

use std::{io::Write, path::Path};

use super::{interrupted, invalid};
use crate::{assert::Verdict, report, runner, scenario, Exit};

/// Checks a scenario and prints a one-line summary.
pub fn validate(file: &Path, allow_remote: bool) -> Exit {
    match scenario::load_allowing_remote(file, allow_remote) {
        Ok(plan) => {
            println!("ok: {}", plan.summary());
            Exit::Pass
        }
        Err(error) => invalid(&error),
    }
}

/// Runs a scenario, prints the verdict table and returns the verdict's exit code.
pub async fn run(file: &Path, reports: &Path, allow_remote: bool) -> anyhow::Result<Exit> {
    let plan = match scenario::load_allowing_remote(file, allow_remote) {
        Ok(plan) => plan,
        Err(error) => return Ok(invalid(&error)),
    };
    println!("running {}", plan.summary());
    let options = runner::RunOptions::new(reports.to_owned());
    let report = runner::execute(&plan, &options, interrupted()).await?;
    print!("{}", report::render_table(&report.results));
    if let Some(expectation) = &report.results.run.aborted_by {
        println!("stopped early: {expectation} failed (abort_on_fail)");
    }
    println!("results: {}", report.folder.join("results.json").display());
    let _ = std::io::stdout().flush();
    Ok(exit_for(report.results.verdict))
}

/// The exit code for a verdict.
pub fn exit_for(verdict: Verdict) -> Exit {
    match verdict {
        Verdict::Pass => Exit::Pass,
        Verdict::Fail => Exit::Failed,
        Verdict::Inconclusive | Verdict::Invalid => Exit::InvalidRun,
        Verdict::Interrupted => Exit::Interrupted,
    }
}
