//! `chaos validate` and `chaos run`.

use std::{io::Write, path::Path};

use super::{interrupted, invalid};
use crate::{assert::Verdict, monitor::progress::Progress, report, runner, scenario, Exit};

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
pub async fn run(
    file: &Path,
    reports: &Path,
    allow_remote: bool,
    dry_run: bool,
    ops: crate::ops::OpsOptions,
) -> anyhow::Result<Exit> {
    let plan = match scenario::load_allowing_remote(file, allow_remote) {
        Ok(plan) => plan,
        Err(error) => return Ok(invalid(&error)),
    };
    if let Some(refusal) = ops.refusal() {
        eprintln!("error: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    let rehearsal = if dry_run { " (dry run: no fault fires)" } else { "" };
    println!("running {}{rehearsal}", plan.summary());
    let _ = std::io::stdout().flush();
    let options = runner::RunOptions {
        dry_run,
        progress: Progress::for_stderr(),
        ops,
        ..runner::RunOptions::new(reports.to_owned())
    };
    let report = runner::execute(&plan, &options, interrupted()).await?;
    print!("{}", report::render_table(&report.results));
    for note in report::cells::stop_notes(&report.results.run) {
        println!("{note}");
    }
    println!("results: {}", report.folder.join("results.json").display());
    println!("report:  {}", report.folder.join("report.html").display());
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
        Verdict::Halted => Exit::Halted,
    }
}
