//! `journal.ndjson`: one JSON line per attempt — when it arrived, where, the fault decision made
//! on it (the key its draws were made with and the rules that fired) and how it ended — after a
//! first line naming the run. Keys appear only as `key-N`, never their values.
//!
//! The data path never waits for the disk: lines go through a bounded queue to a writer thread,
//! and a line that finds the queue full is dropped and counted; the results say how many were
//! written and dropped.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{sync_channel, SyncSender, TrySendError},
        Arc,
    },
    thread::JoinHandle,
};

use serde::{Deserialize, Serialize};

use super::AttemptRecord;

/// What the journal kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JournalStats {
    /// Lines written, the run line included.
    pub written: u64,
    /// Attempt lines dropped because the writer fell behind.
    pub dropped: u64,
}

/// Lines that may wait for the writer.
pub const QUEUE: usize = 16_384;

/// The journal's first line: which run it is, so a replay can check it is replaying the same
/// scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    /// Always `run`.
    pub kind: String,
    pub scenario: String,
    pub seed: u64,
    pub upstreams: Vec<String>,
    /// Each upstream's zone, in the same order (`null` for none).
    #[serde(default)]
    pub zones: Vec<Option<String>>,
    pub phases: Vec<String>,
    pub harness_version: String,
}

/// One attempt, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptLine {
    /// Always `attempt`.
    pub kind: String,
    /// Seconds from the run's start to its arrival.
    pub at_s: f64,
    /// Upstream and phase, as indices into the run line's lists.
    pub upstream: usize,
    pub phase: usize,
    pub logical_id: Option<u64>,
    /// The call of an agent's task it belongs to; left out for a plain request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<u32>,
    pub draw_key: Option<u64>,
    /// The phase chain's rules that fired, by index.
    pub rules: Vec<usize>,
    /// Their labels, and those of stream faults applied later.
    pub faults: Vec<String>,
    /// A status, `unreachable`, `cancelled` or `aborted`.
    pub outcome: String,
    pub injected: bool,
    /// `key-N`, never the key.
    pub key: Option<String>,
    pub model: Option<String>,
    /// How the answer went back, milliseconds from the attempt's arrival: its head, its first
    /// token (event streams), its end; `null` where it never did.
    #[serde(default)]
    pub ttfb_ms: Option<f64>,
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// Body bytes that went back.
    #[serde(default)]
    pub bytes: u64,
    /// Whether the answer ended properly (an event stream: with its terminator).
    #[serde(default)]
    pub completed: Option<bool>,
    /// Tokens billed: from the answer's `usage`, or estimated (`tokens_estimated`) where it
    /// had none, as for a cut stream.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub tokens_estimated: bool,
    /// The wait the answer asked for (`retry-after-ms`, else `retry-after`), milliseconds.
    #[serde(default)]
    pub retry_after_ms: Option<f64>,
}

impl AttemptLine {
    pub fn of(record: &AttemptRecord) -> Self {
        AttemptLine {
            kind: "attempt".to_owned(),
            at_s: record.at.as_secs_f64(),
            upstream: record.upstream,
            phase: record.phase,
            logical_id: record.logical_id,
            call: record.call,
            draw_key: record.draw_key,
            rules: record.rules.clone(),
            faults: record.faults.clone(),
            outcome: record.outcome.key(),
            injected: record.injected,
            key: record.key.clone(),
            model: record.model.clone(),
            ttfb_ms: record.answer.ttfb.map(millis),
            ttft_ms: record.answer.first_token.map(millis),
            duration_ms: record.answer.duration.map(millis),
            bytes: record.answer.bytes,
            completed: record.answer.completed,
            input_tokens: record.usage.map(|u| u.input),
            output_tokens: record.usage.map(|u| u.output),
            tokens_estimated: record.usage.is_some_and(|u| u.estimated),
            retry_after_ms: record.retry_after.map(millis),
        }
    }
}

/// A duration in milliseconds, to the microsecond.
fn millis(duration: std::time::Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

/// A cheap, cloneable handle to add lines with.
#[derive(Debug, Clone)]
pub struct Journal {
    lines: SyncSender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
}

/// The writer thread, to be joined at the end.
#[derive(Debug)]
pub struct JournalWriter {
    thread: JoinHandle<std::io::Result<u64>>,
    dropped: Arc<AtomicU64>,
}

impl Journal {
    /// Starts writing `path` with `run` as its first line; `queue` lines may wait.
    pub fn start(path: &Path, run: &RunLine, queue: usize) -> std::io::Result<(Journal, JournalWriter)> {
        let mut file = BufWriter::new(File::create(path)?);
        serde_json::to_writer(&mut file, run)?;
        file.write_all(b"\n")?;
        let (lines, received) = sync_channel::<Vec<u8>>(queue);
        let thread = std::thread::Builder::new().name("journal".to_owned()).spawn(move || {
            let mut written = 1;
            for line in received {
                file.write_all(&line)?;
                written += 1;
            }
            file.flush()?;
            Ok(written)
        })?;
        let dropped = Arc::new(AtomicU64::new(0));
        Ok((Journal { lines, dropped: dropped.clone() }, JournalWriter { thread, dropped }))
    }

    /// Adds an attempt's line, or counts it dropped when the writer is behind.
    pub fn attempt(&self, record: &AttemptRecord) {
        let mut line = serde_json::to_vec(&AttemptLine::of(record)).unwrap_or_default();
        line.push(b'\n');
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.lines.try_send(line) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl JournalWriter {
    /// Waits for every queued line to be written, once every [`Journal`] handle is gone.
    pub fn finish(self) -> std::io::Result<JournalStats> {
        let written =
            self.thread.join().map_err(|_| std::io::Error::other("the journal writer panicked"))??;
        Ok(JournalStats { written, dropped: self.dropped.load(Ordering::Relaxed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::AttemptOutcome;
    use crate::test_support::run_line;
    use std::time::Duration;

    fn record(id: u64) -> AttemptRecord {
        let mut record =
            AttemptRecord::arrived(0, 0, Some(id), Duration::from_millis(id), vec!["status 503".into()]);
        record.outcome = AttemptOutcome::Status(503);
        record.rules = vec![0];
        record.key = Some("key-0".to_owned());
        record
    }

    #[test]
    fn every_attempt_is_a_line_after_the_run_line() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("journal.ndjson");
        let (journal, writer) = Journal::start(&path, &run_line(&["calm"]), QUEUE).expect("started");
        for id in 0..100 {
            journal.attempt(&record(id));
        }
        drop(journal);
        assert_eq!(writer.finish().expect("finished"), JournalStats { written: 101, dropped: 0 });
        let text = std::fs::read_to_string(&path).expect("journal");
        let mut lines = text.lines();
        let first: RunLine = serde_json::from_str(lines.next().expect("a run line")).expect("run line");
        assert_eq!(first, run_line(&["calm"]));
        let attempts: Vec<AttemptLine> =
            lines.map(|l| serde_json::from_str(l).expect("an attempt line")).collect();
        assert_eq!(attempts.len(), 100);
        assert_eq!(
            (attempts[7].logical_id, &attempts[7].rules, attempts[7].outcome.as_str()),
            (Some(7), &vec![0], "503")
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("journal.ndjson");
        // A queue of none: a line goes only when the writer is waiting for it right then.
        let (journal, writer) = Journal::start(&path, &run_line(&["calm"]), 0).expect("started");
        let started = std::time::Instant::now();
        for id in 0..10_000 {
            journal.attempt(&record(id));
        }
        assert!(started.elapsed() < Duration::from_secs(5), "adding lines waited for the disk");
        drop(journal);
        let stats = writer.finish().expect("finished");
        assert_eq!(stats.written - 1 + stats.dropped, 10_000, "{stats:?}");
        assert!(stats.dropped > 0, "{stats:?}");
        let lines = std::fs::read_to_string(&path).expect("journal").lines().count() as u64;
        assert_eq!(lines, stats.written);
    }
}
