//! Wakes at each intended start on a thread of its own and hands the instants to the async
//! driver. tokio's timer ticks in whole milliseconds and fires after the deadline, which made
//! every start ~1 ms late at p50 — lateness the open model then (rightly) charges to latency.
//! A thread sleeping to the instant with the OS's own timer is late by tens of microseconds.
//! It never spins, and wakes at most once per [`TICK`]: each wake costs a context switch and a
//! wake-up of the runtime, so above 1,000 starts a second the starts due within a tick go out
//! together (late by at most a tick, as with tokio's timer), which keeps the CPU per request
//! low. Measured at 8,000/s for 8 s: a 250 µs tick gave p50 lateness 0.23 ms for 69 µs of CPU a
//! request, a 1 ms tick 0.65 ms for 47 µs; below 1,000/s every start has its own wake (~0.13 ms).
//! On Linux the thread asks for no timer slack: by default the kernel may let a sleep overrun by
//! up to 50 µs to batch wake-ups, and each start would be that much later.

use std::{
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use super::Schedule;
use crate::metrics::RunClock;

/// The shortest time between two wakes of the pacer (see the module's note).
pub const TICK: Duration = Duration::from_micros(1000);

/// One load thread's side of the pacer: the starts dealt to it, each numbered and with its
/// intended instant, and how many of those it has not finished (it counts them down as they
/// end; the pacer counts them up as it deals).
pub struct Dealt {
    pub due: mpsc::UnboundedReceiver<Start>,
    pub open: Arc<AtomicUsize>,
}

/// One start: its logical request's number (1, 2, … in the order of the intended instants,
/// whichever thread gets it: phases and per-attempt draws rely on numbers rising with time) and
/// its intended instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub id: u64,
    pub intended: Duration,
}

/// Where the pacer stops dealing: no start intended at or after the cut-off goes out. It begins
/// at the schedule's end and can only move earlier ([`Cutoff::stop_at`]); the pacer ends, and
/// closes every shard's channel, once the next start is past it.
#[derive(Debug, Clone)]
pub struct Cutoff {
    micros: Arc<AtomicU64>,
    pacer: std::thread::Thread,
}

impl Cutoff {
    /// Deals no start intended at or after `at` (run time). Starts intended before it are still
    /// dealt, however late the pacer is with them: each is then counted, sent or missed. The
    /// pacer is woken to see it, so a long sleep to a distant instant does not hold the end.
    pub fn stop_at(&self, at: Duration) {
        self.micros.fetch_min(micros(at), Ordering::Relaxed);
        self.pacer.unpark();
    }

    fn passed_by(&self, intended: Duration) -> bool {
        micros(intended) >= self.micros.load(Ordering::Relaxed)
    }
}

fn micros(at: Duration) -> u64 {
    u64::try_from(at.as_micros()).unwrap_or(u64::MAX)
}

/// Paces `schedule` on `clock` until an intended start reaches `end` (or the returned
/// [`Cutoff`], moved earlier): the instants arrive as they come due, each dealt to the one of
/// `shards` (at least one) load threads with the fewest unfinished requests, in turn among
/// equals, so a thread that falls behind (its core taken by something else) is dealt less. Once
/// the receivers are dropped, the thread ends at its next instant.
pub fn start(
    schedule: Schedule,
    end: Duration,
    clock: RunClock,
    shards: usize,
) -> std::io::Result<(Vec<Dealt>, Cutoff)> {
    let channels: Vec<_> = (0..shards.max(1)).map(|_| mpsc::unbounded_channel()).collect();
    let open: Vec<Arc<AtomicUsize>> = channels.iter().map(|_| Arc::default()).collect();
    let (senders, dues): (Vec<_>, Vec<_>) = channels.into_iter().unzip();
    let dealt =
        dues.into_iter().zip(&open).map(|(due, open)| Dealt { due, open: Arc::clone(open) }).collect();
    // The run clock counts from a tokio instant; on a real clock that is a std instant too.
    let start = Instant::now().checked_sub(clock.elapsed()).unwrap_or_else(Instant::now);
    let cutoff_micros = Arc::new(AtomicU64::new(micros(end)));
    let micros_seen = Arc::clone(&cutoff_micros);
    let pacer = std::thread::Builder::new().name("chaos-pacer".to_owned()).spawn(move || {
        // Without it the starts are only a little later: nothing to do if it is refused.
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_timerslack(1);
        let cutoff = Cutoff { micros: micros_seen, pacer: std::thread::current() };
        let mut next_wake = start;
        let mut turn = 0;
        let numbering = schedule.numbering();
        for (local, intended) in (1u64..).zip(schedule) {
            let id = numbering.id(local);
            let due = start + intended;
            if due > Instant::now() {
                // Not before the tick is over: starts due meanwhile go out together.
                if !sleep_until(due.max(next_wake), || cutoff.passed_by(intended)) {
                    break;
                }
                next_wake = Instant::now() + TICK;
            }
            if cutoff.passed_by(intended) {
                break;
            }
            let shard = least_busy(&open, turn);
            open[shard].fetch_add(1, Ordering::Relaxed);
            turn = shard + 1;
            if senders[shard].send(Start { id, intended }).is_err() {
                break;
            }
        }
    })?;
    let cutoff = Cutoff { micros: cutoff_micros, pacer: pacer.thread().clone() };
    Ok((dealt, cutoff))
}

/// Sleeps until `wake`, unless woken (unparked) to find `cut` true; says whether it slept to the
/// end. A park can also end early for no reason: it is taken again for the time left.
fn sleep_until(wake: Instant, cut: impl Fn() -> bool) -> bool {
    loop {
        if cut() {
            return false;
        }
        let now = Instant::now();
        if wake <= now {
            return true;
        }
        std::thread::park_timeout(wake - now);
    }
}

/// The shard with the fewest unfinished requests; among equals, the first from `turn` on.
fn least_busy(open: &[Arc<AtomicUsize>], turn: usize) -> usize {
    (0..open.len())
        .map(|k| (turn + k) % open.len())
        .min_by_key(|&shard| open[shard].load(Ordering::Relaxed))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::rate_profile::Process;

    #[tokio::test]
    async fn instants_arrive_in_order_close_to_due_and_stop_at_the_end() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 200.0, Duration::from_secs(1), 0);
        let mut due = start(schedule, Duration::from_millis(100), clock, 1).unwrap().0.remove(0).due;
        let mut seen = Vec::new();
        while let Some(Start { intended, .. }) = due.recv().await {
            let late = clock.elapsed().saturating_sub(intended);
            assert!(late < Duration::from_millis(50), "{late:?} late");
            seen.push(intended);
        }
        assert_eq!(seen.len(), 20, "5 ms apart up to 100 ms");
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn shards_that_keep_up_are_dealt_the_instants_in_turn() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 1000.0, Duration::from_secs(1), 0);
        let (dealt, _) = start(schedule, Duration::from_millis(30), clock, 3).unwrap();
        let mut seen = Vec::new();
        for Dealt { mut due, .. } in dealt {
            let mut mine = Vec::new();
            while let Some(start) = due.recv().await {
                mine.push(start);
            }
            seen.push(mine);
        }
        // None finished, so all are equally busy: the first three instants to shards 0, 1, 2, ...
        assert_eq!(seen.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 10], "{seen:?}");
        let in_turn: Vec<Start> = (0..10).flat_map(|i| seen.iter().map(move |mine| mine[i])).collect();
        assert!(in_turn.windows(2).all(|w| w[0].intended < w[1].intended), "{seen:?}");
        let ids: Vec<u64> = in_turn.iter().map(|start| start.id).collect();
        assert_eq!(ids, (1..=30).collect::<Vec<_>>(), "numbered in the instants' order, across threads");
    }

    #[tokio::test]
    async fn a_shard_that_falls_behind_is_dealt_nothing_more() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 50.0, Duration::from_secs(1), 0);
        let (mut dealt, _) = start(schedule, Duration::from_millis(200), clock, 2).unwrap();
        let (mut stuck, mut quick) = (dealt.remove(0), dealt.remove(0));
        let mut quick_count = 0;
        // The quick shard finishes each request as soon as it gets it; the stuck one never does.
        while let Some(_start) = quick.due.recv().await {
            quick.open.fetch_sub(1, Ordering::Relaxed);
            quick_count += 1;
        }
        let mut stuck_count = 0;
        while stuck.due.recv().await.is_some() {
            stuck_count += 1;
        }
        // The first (a tie) goes to the stuck shard; the quick one counts each down within 20 ms,
        // before the next is dealt, but a test thread descheduled that long lets one more tie
        // through. Dealing in turn would give each five.
        assert_eq!(stuck_count + quick_count, 10);
        assert!(stuck_count <= 2, "the stuck shard got {stuck_count} of 10");
        assert_eq!(stuck.open.load(Ordering::Relaxed), stuck_count);
    }

    /// The run's end came while the pacer was behind: every start intended before the cut-off
    /// is still dealt (each then counted, sent or missed), none after it, and the channels close
    /// at the cut-off, not at the schedule's end.
    #[tokio::test]
    async fn a_cut_off_deals_every_start_before_it_however_late_and_none_after() {
        let clock = RunClock::start_now();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let schedule = || Schedule::constant_rate(Process::Constant, 1000.0, Duration::from_secs(30), 0);
        let (mut dealt, cutoff) = start(schedule(), Duration::from_secs(30), clock, 1).unwrap();
        let at = clock.elapsed() + Duration::from_millis(50);
        cutoff.stop_at(at);
        let mut due = dealt.remove(0).due;
        let mut ids = Vec::new();
        while let Some(Start { id, intended }) = due.recv().await {
            assert!(intended < at, "{intended:?} is past the cut-off {at:?}");
            ids.push(id);
        }
        let before = schedule().take_while(|intended| *intended < at).count();
        assert!(before >= 250, "{before}");
        assert_eq!(ids, (1..=before as u64).collect::<Vec<_>>());
        assert!(clock.elapsed() < Duration::from_secs(5), "ended at the cut-off: {:?}", clock.elapsed());
    }

    #[tokio::test]
    async fn a_cut_off_wakes_a_pacer_asleep_until_a_distant_start() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 0.1, Duration::from_secs(60), 0);
        let (mut dealt, cutoff) = start(schedule, Duration::from_secs(60), clock, 1).unwrap();
        let mut due = dealt.remove(0).due;
        let first = due.recv().await.expect("the start at 0 s");
        assert_eq!(first.intended, Duration::ZERO);
        cutoff.stop_at(clock.elapsed());
        let next = tokio::time::timeout(Duration::from_secs(5), due.recv()).await;
        assert_eq!(next, Ok(None), "the next start was 10 s away; the pacer ended at once");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_pacer_thread_sleeps_without_timer_slack() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 10.0, Duration::from_secs(10), 0);
        let mut due = start(schedule, Duration::from_secs(10), clock, 1).unwrap().0.remove(0).due;
        assert!(due.recv().await.is_some(), "the first start, after the slack was set");
        // Each thread's name is under /proc/self/task/<tid>; its slack only under /proc/<tid>.
        let tasks = std::fs::read_dir("/proc/self/task").unwrap().flatten();
        let read = |path: std::path::PathBuf| std::fs::read_to_string(path);
        let slacks: Vec<String> = tasks
            .filter(|task| read(task.path().join("comm")).is_ok_and(|name| name.trim() == "chaos-pacer"))
            .filter_map(|task| {
                read(std::path::Path::new("/proc").join(task.file_name()).join("timerslack_ns")).ok()
            })
            .collect();
        assert!(!slacks.is_empty() && slacks.iter().all(|ns| ns.trim() == "1"), "{slacks:?}");
    }
}
