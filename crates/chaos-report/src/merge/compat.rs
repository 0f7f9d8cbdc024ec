//! Which results can be merged, and why others cannot: runs of one scenario, by the same
//! version of `chaos`. The first thing that differs is named, with both values.
//!
//! What must match, in the order it is checked: the harness version (figures and the bundled
//! price table belong to it); the scenario's name; its seed (the same seed makes the same fault
//! decisions on every machine, so each run is the same experiment); its phases, by name and
//! duration; whether it was a dry run; and, last, the scenario's whole text (its upstreams,
//! faults, load, SLO, prices and expectations all shape the figures).

use std::path::{Path, PathBuf};

use crate::results::Results;

/// Why runs cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{}: cannot be merged: it keeps no tallies or no scenario text (written by an older chaos)", path.display())]
    NotMergeable { path: PathBuf },
    #[error("{}: not the same {what} as {}: {theirs} here, {ours} there", path.display(), first.display())]
    Mismatch { path: PathBuf, first: PathBuf, what: &'static str, ours: String, theirs: String },
    #[error("{}: the scenario it recorded does not parse any more: {error}", path.display())]
    Scenario { path: PathBuf, error: crate::scenario::ScenarioError },
    #[error("{}: its tallies have {found} phases, its scenario {expected}", path.display())]
    Inconsistent { path: PathBuf, found: usize, expected: usize },
    #[error("{}: {problem}", files.join(", "))]
    Unreadable { files: Vec<String>, problem: String },
}

/// A property that must match: its name, and its value as a string to compare and show.
type Property = (&'static str, fn(&Results) -> String);

/// The properties that must match.
const CHECKS: [Property; 6] = [
    ("harness version", |r| r.harness_version.clone()),
    ("scenario name", |r| r.scenario.name.clone()),
    ("seed", |r| r.scenario.seed.to_string()),
    ("phases", |r| {
        r.phases.iter().map(|p| format!("{} {}s", p.name, p.duration_s)).collect::<Vec<_>>().join(", ")
    }),
    ("kind of run (dry or not)", |r| {
        if r.run.dry_run { "a dry run" } else { "a run with faults" }.to_owned()
    }),
    ("scenario text", |r| r.scenario.source.clone().unwrap_or_default()),
];

/// Checks that every run can be merged with the first.
pub fn check(runs: &[(PathBuf, Results)]) -> Result<(), MergeError> {
    for (path, results) in runs {
        if results.tallies.is_none() || results.scenario.source.is_none() {
            return Err(MergeError::NotMergeable { path: path.clone() });
        }
    }
    let Some((first, reference)) = runs.first() else { return Ok(()) };
    for (path, results) in &runs[1..] {
        for (what, of) in CHECKS {
            let (ours, theirs) = (of(reference), of(results));
            if ours != theirs {
                let (ours, theirs) = (shorten(&ours, &theirs), shorten(&theirs, &ours));
                return Err(MergeError::Mismatch {
                    path: path.clone(),
                    first: first.clone(),
                    what,
                    ours,
                    theirs,
                });
            }
        }
    }
    Ok(())
}

/// A long value (the scenario's text) shown by its first line that differs from `other`'s.
fn shorten(value: &str, other: &str) -> String {
    if !value.contains('\n') && value.len() <= 120 {
        return format!("`{value}`");
    }
    let mut others = other.lines();
    let (number, line) = value
        .lines()
        .enumerate()
        .find(|(_, line)| others.next() != Some(line))
        .unwrap_or((value.lines().count(), ""));
    format!("line {}: `{}`", number + 1, line.trim())
}

/// The path of a run, for errors that concern only it.
pub fn scenario_error(path: &Path, error: crate::scenario::ScenarioError) -> MergeError {
    MergeError::Scenario { path: path.to_owned(), error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_with_both_values() {
        let results = crate::test_support::results();
        let mut other = results.clone();
        other.scenario.seed += 1;
        let runs = [(PathBuf::from("a.json"), results.clone()), (PathBuf::from("b.json"), other)];
        let error = check(&runs).unwrap_err().to_string();
        assert!(error.starts_with("b.json: not the same seed as a.json: `"), "{error}");
        let mut text = results.clone();
        let source = results.scenario.source.clone().expect("the scenario's text");
        let lines = source.lines().count();
        text.scenario.source = Some(format!("{source}# a comment\n"));
        let runs = [(PathBuf::from("a.json"), results.clone()), (PathBuf::from("b.json"), text)];
        let error = check(&runs).unwrap_err().to_string();
        let expected = format!("line {n}: `# a comment` here, line {n}: `` there", n = lines + 1);
        assert!(error.ends_with(&expected), "{error}");
        let old = crate::results::Results { tallies: None, ..results.clone() };
        let runs = [(PathBuf::from("a.json"), results), (PathBuf::from("old.json"), old)];
        assert!(check(&runs).unwrap_err().to_string().starts_with("old.json: cannot be merged"));
    }
}
