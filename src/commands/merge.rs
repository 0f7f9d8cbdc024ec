//! `chaos merge`: reads the results of runs of one scenario, merges them
//! ([`crate::report::merge`]), prints the merged verdict table and writes `results.json` with
//! its renderings.

use std::path::Path;

use crate::{merge::merge as merge_results, report, results::Results, Exit};

/// Merges `files` into `out` (default: `reports/<scenario>-merged-<timestamp>`): shards of one
/// load, or any runs of it as `replicas`. A file that cannot be read as results, or runs that
/// cannot be merged, are the user's to fix: exit 2, saying why. Otherwise the exit code is the
/// merged verdict's, as for `chaos run`.
pub fn merge(files: &[std::path::PathBuf], out: Option<&Path>, replicas: bool) -> anyhow::Result<Exit> {
    let mut runs = Vec::with_capacity(files.len());
    for file in files {
        match Results::read(file) {
            Ok(results) => runs.push((file.clone(), results)),
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(Exit::InvalidScenario);
            }
        }
    }
    let command_line: Vec<String> = std::env::args().collect();
    let merged = match merge_results(&runs, replicas, &command_line) {
        Ok(merged) => merged,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(Exit::InvalidScenario);
        }
    };
    let folder = match out {
        Some(out) => out.to_owned(),
        None => {
            let stamp = report::folder_stamp(time::OffsetDateTime::now_utc())?;
            report::run_folder(Path::new("reports"), &format!("{}-merged", merged.scenario.name), &stamp)
        }
    };
    print!("{}", report::render_table(&merged));
    for note in report::cells::provenance(&merged) {
        println!("{note}");
    }
    println!("merged {} runs: {}", runs.len(), report::write(&merged, &folder)?.display());
    Ok(super::exit_for(merged.verdict))
}
