//! `chaos run --replay journal.ndjson`: the fault decisions of an earlier run, imposed again.
//! An attempt that names its request (a correlation id: its draw key) gets the rules that fired
//! on the same attempt at the same upstream then; one that does not takes the decisions of the
//! earlier run's unnamed attempts at that upstream, in order. A decision recorded in another
//! phase than the attempt arrives in now, or none at all, leaves the chain to decide as usual,
//! and is counted as a miss.

use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use serde::{Deserialize, Serialize};

use super::journal::{AttemptLine, RunLine};

/// How a replay went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReplayStats {
    /// The journal replayed.
    pub file: String,
    /// Attempts whose fault decision came from the journal.
    pub imposed: u64,
    /// Attempts the journal had no decision for (in their phase); their chains decided.
    pub misses: u64,
}

/// Why a journal cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{}: cannot read the journal: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: not a chaos journal line: {source}", path.display())]
    Invalid { path: PathBuf, line: usize, source: serde_json::Error },
    #[error("{}: a journal of {what}, but this scenario has {ours}", path.display())]
    OtherRun { path: PathBuf, what: String, ours: String },
}

/// Decisions recorded without a draw key, in arrival order: each a phase and the rules that fired.
type Unkeyed = Mutex<VecDeque<(usize, Vec<usize>)>>;

/// The decisions of an earlier run.
#[derive(Debug)]
pub struct Replay {
    file: PathBuf,
    /// By upstream and draw key: the phase and the rules that fired.
    keyed: HashMap<(usize, u64), (usize, Vec<usize>)>,
    /// By upstream, in arrival order: attempts without a draw key.
    unkeyed: Vec<Unkeyed>,
    imposed: AtomicU64,
    misses: AtomicU64,
}

impl Replay {
    /// Reads `path`, which must be a journal of a run of the scenario `run` describes (same
    /// name, upstreams and phases; the seed may differ).
    pub fn read(path: &Path, run: &RunLine) -> Result<Replay, ReplayError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ReplayError::Unreadable { path: path.to_owned(), source })?;
        let invalid = |line: usize| {
            let path = path.to_owned();
            move |source| ReplayError::Invalid { path, line, source }
        };
        let mut lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
        let (_, first) = lines.next().unwrap_or((0, ""));
        let recorded: RunLine = serde_json::from_str(first).map_err(invalid(1))?;
        let describe = |run: &RunLine| {
            format!(
                "`{}` (upstreams {}; phases {})",
                run.scenario,
                run.upstreams.join(", "),
                run.phases.join(", ")
            )
        };
        if (&recorded.scenario, &recorded.upstreams, &recorded.phases)
            != (&run.scenario, &run.upstreams, &run.phases)
        {
            return Err(ReplayError::OtherRun {
                path: path.to_owned(),
                what: describe(&recorded),
                ours: describe(run),
            });
        }
        let mut replay = Replay {
            file: path.to_owned(),
            keyed: HashMap::new(),
            unkeyed: run.upstreams.iter().map(|_| Mutex::new(VecDeque::new())).collect(),
            imposed: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        };
        let mut unkeyed: Vec<(f64, usize, usize, Vec<usize>)> = Vec::new();
        for (index, line) in lines {
            let attempt: AttemptLine = serde_json::from_str(line).map_err(invalid(index + 1))?;
            match attempt.draw_key {
                Some(key) => {
                    replay.keyed.insert((attempt.upstream, key), (attempt.phase, attempt.rules));
                }
                None => unkeyed.push((attempt.at_s, attempt.upstream, attempt.phase, attempt.rules)),
            }
        }
        // Lines are written as attempts end; unnamed ones are replayed in the order they arrived.
        unkeyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, upstream, phase, rules) in unkeyed {
            if let Some(queue) = replay.unkeyed.get_mut(upstream) {
                queue.get_mut().unwrap_or_else(|p| p.into_inner()).push_back((phase, rules));
            }
        }
        Ok(replay)
    }

    /// The rules to impose on an attempt at `upstream` in `phase`, if the journal decided it.
    pub fn imposed(&self, upstream: usize, phase: usize, draw_key: Option<u64>) -> Option<Vec<usize>> {
        let recorded = match draw_key {
            Some(key) => self.keyed.get(&(upstream, key)).cloned(),
            None => self
                .unkeyed
                .get(upstream)
                .and_then(|queue| queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()),
        };
        let rules = recorded.filter(|(recorded_phase, _)| *recorded_phase == phase).map(|(_, rules)| rules);
        let counter = if rules.is_some() { &self.imposed } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        rules
    }

    pub fn stats(&self) -> ReplayStats {
        ReplayStats {
            file: self.file.display().to_string(),
            imposed: self.imposed.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{
        journal::{Journal, QUEUE},
        AttemptRecord,
    };
    use crate::test_support::run_line;
    use std::time::Duration;

    fn journal(path: &Path, attempts: &[(Option<u64>, usize, Vec<usize>)]) {
        let (journal, writer) = Journal::start(path, &run_line(&["calm", "down"]), QUEUE).expect("started");
        for (at, (key, phase, rules)) in attempts.iter().enumerate() {
            let mut record =
                AttemptRecord::arrived(0, *phase, None, Duration::from_millis(at as u64), Vec::new());
            record.draw_key = *key;
            record.rules = rules.clone();
            journal.attempt(&record);
        }
        drop(journal);
        writer.finish().expect("written");
    }

    #[test]
    fn named_attempts_get_their_decision_and_unnamed_ones_theirs_in_order() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("journal.ndjson");
        journal(
            &path,
            &[(Some(7), 1, vec![0]), (None, 1, vec![]), (None, 1, vec![0, 1]), (Some(9), 0, vec![])],
        );
        let replay = Replay::read(&path, &run_line(&["calm", "down"])).expect("read");
        assert_eq!(replay.imposed(0, 1, Some(7)), Some(vec![0]));
        assert_eq!(replay.imposed(0, 1, None), Some(vec![]));
        assert_eq!(replay.imposed(0, 1, None), Some(vec![0, 1]));
        assert_eq!(replay.imposed(0, 1, Some(9)), None, "recorded in another phase");
        assert_eq!(replay.imposed(0, 1, Some(8)), None, "never recorded");
        let stats = replay.stats();
        assert_eq!((stats.imposed, stats.misses), (3, 2));
    }

    #[test]
    fn a_journal_of_another_scenario_is_refused_naming_both() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("journal.ndjson");
        journal(&path, &[]);
        let error = Replay::read(&path, &run_line(&["calm", "spike"])).unwrap_err().to_string();
        assert!(error.contains("phases calm, down") && error.contains("phases calm, spike"), "{error}");
        std::fs::write(&path, "{\"kind\":\"run\"").expect("written");
        let error = Replay::read(&path, &run_line(&["calm"])).unwrap_err().to_string();
        assert!(error.contains("journal.ndjson:1: not a chaos journal line"), "{error}");
    }
}
