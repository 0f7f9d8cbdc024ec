//! Which results can be merged, and why others cannot: runs of one scenario, by the same
//! version of `chaos`. The first thing that differs is named, with both values.
//!
//! What must match, in the order it is checked: the harness version (figures and the bundled
//! price table belong to it); the scenario's name; its seed; its phases, by name and duration;
//! whether it was a dry run; the number of shards its load was split into (`--shard K/N`); and, last, the
//! scenario's whole text (its upstreams, faults, load, SLO, prices and expectations all shape
//! the figures).
//!
//! Then what the runs are to one another. Shards of one load (`--shard K/N`, each K once) drew
//! their arrivals and random draws apart: independent samples, which add up to one run of the
//! whole plan. Runs of the whole load with one seed are *replicas*: the same arrivals, the same
//! fault draws, so N of them are N copies of one sample, not N samples; they merge only when
//! the user says so (`--replicas`), and the merged results say they were replicas. Two runs of
//! one shard are replicas of that shard, refused the same way.

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
    #[error(
        "{} and {}: {what}, with the same seed: replicas of one sample (the same arrivals and fault \
         draws), not independent samples. Split the load with `chaos run --shard K/N` on each \
         machine, or pass `--replicas` to merge them as replicas",
        first.display(), path.display()
    )]
    Replicas { first: PathBuf, path: PathBuf, what: String },
}

/// A property that must match: its name, and its value as a string to compare and show.
type Property = (&'static str, fn(&Results) -> String);

/// The properties that must match.
const CHECKS: [Property; 7] = [
    ("harness version", |r| r.harness_version.clone()),
    ("scenario name", |r| r.scenario.name.clone()),
    ("seed", |r| r.scenario.seed.to_string()),
    ("phases", |r| {
        r.phases.iter().map(|p| format!("{} {}s", p.name, p.duration_s)).collect::<Vec<_>>().join(", ")
    }),
    ("kind of run (dry or not)", |r| {
        if r.run.dry_run { "a dry run" } else { "a run with faults" }.to_owned()
    }),
    ("split of the load", |r| match r.scenario.shard {
        Some(shard) => format!("{} shards", shard.count),
        None => "whole".to_owned(),
    }),
    ("scenario text", |r| r.scenario.source.clone().unwrap_or_default()),
];

/// Checks that every run can be merged with the first, and that they are independent samples
/// (shards, each once) unless `replicas` allows replicas.
pub fn check(runs: &[(PathBuf, Results)], replicas: bool) -> Result<(), MergeError> {
    same_experiment(runs)?;
    match replicas {
        true => Ok(()),
        false => independent(runs),
    }
}

/// Checks that every run is of the first's experiment.
fn same_experiment(runs: &[(PathBuf, Results)]) -> Result<(), MergeError> {
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

/// Checks that no two runs (of one split of the load) played the same part of it.
fn independent(runs: &[(PathBuf, Results)]) -> Result<(), MergeError> {
    let shard_of = |results: &Results| results.scenario.shard.map(|shard| (shard.index, shard.count));
    for (at, (path, results)) in runs.iter().enumerate() {
        let Some((earlier, _)) = runs[..at].iter().find(|(_, r)| shard_of(r) == shard_of(results)) else {
            continue;
        };
        let what = match shard_of(results) {
            Some((index, count)) => format!("both played shard {index}/{count} of the load"),
            None => "both played all of the load".to_owned(),
        };
        return Err(MergeError::Replicas { first: earlier.clone(), path: path.clone(), what });
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
        let error = check(&runs, false).unwrap_err().to_string();
        assert!(error.starts_with("b.json: not the same seed as a.json: `"), "{error}");
        let mut text = results.clone();
        let source = results.scenario.source.clone().expect("the scenario's text");
        let lines = source.lines().count();
        text.scenario.source = Some(format!("{source}# a comment\n"));
        let runs = [(PathBuf::from("a.json"), results.clone()), (PathBuf::from("b.json"), text)];
        let error = check(&runs, false).unwrap_err().to_string();
        let expected = format!("line {n}: `# a comment` here, line {n}: `` there", n = lines + 1);
        assert!(error.ends_with(&expected), "{error}");
        let old = crate::results::Results { tallies: None, ..results.clone() };
        let runs = [(PathBuf::from("a.json"), results), (PathBuf::from("old.json"), old)];
        assert!(check(&runs, false).unwrap_err().to_string().starts_with("old.json: cannot be merged"));
    }

    /// Two copies of a run, as shards `a` and `b` of `count` (whole when `None`).
    fn pair(a: Option<u32>, b: Option<u32>, count: u32) -> [(PathBuf, Results); 2] {
        let results = crate::test_support::results();
        let of = |index: Option<u32>| {
            let mut run = results.clone();
            run.scenario.shard = index.map(|index| crate::results::ShardOf { index, count });
            run
        };
        [(PathBuf::from("a.json"), of(a)), (PathBuf::from("b.json"), of(b))]
    }

    #[test]
    fn shards_merge_and_replicas_only_when_asked() {
        assert!(check(&pair(Some(0), Some(1), 2), false).is_ok());
        assert!(check(&pair(Some(0), Some(2), 4), false).is_ok(), "shards may be missing");
        let whole = check(&pair(None, None, 1), false).unwrap_err().to_string();
        assert!(
            whole.starts_with("a.json and b.json: both played all of the load, with the same seed: replicas"),
            "{whole}"
        );
        assert!(whole.contains("--shard K/N") && whole.contains("--replicas"), "{whole}");
        assert!(check(&pair(None, None, 1), true).is_ok());
        let twice = check(&pair(Some(1), Some(1), 2), false).unwrap_err().to_string();
        assert!(twice.contains("both played shard 1/2 of the load"), "{twice}");
        let mixed = check(&pair(Some(0), None, 2), false).unwrap_err().to_string();
        assert!(
            mixed.contains("not the same split of the load as a.json: `whole` here, `2 shards` there"),
            "{mixed}"
        );
        let counts = {
            let [a, (path, mut b)] = pair(Some(0), Some(1), 2);
            b.scenario.shard = Some(crate::results::ShardOf { index: 1, count: 3 });
            check(&[a, (path, b)], false).unwrap_err().to_string()
        };
        assert!(
            counts.contains("not the same split of the load as a.json: `3 shards` here, `2 shards` there"),
            "{counts}"
        );
    }
}
