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

use std::time::Duration;

use tokio::sync::mpsc;

use super::Schedule;
use crate::metrics::RunClock;

/// The shortest time between two wakes of the pacer (see the module's note).
pub const TICK: Duration = Duration::from_micros(1000);

/// Paces `schedule` on `clock` until an intended start reaches `end`: the instants arrive as they
/// come due, dealt in turn to `shards` (at least one) channels, one per load thread. Dropping a
/// receiver ends the thread at its next instant.
pub fn start(
    schedule: Schedule,
    end: Duration,
    clock: RunClock,
    shards: usize,
) -> std::io::Result<Vec<mpsc::UnboundedReceiver<Duration>>> {
    let (senders, dues): (Vec<_>, Vec<_>) = (0..shards.max(1)).map(|_| mpsc::unbounded_channel()).unzip();
    // The run clock counts from a tokio instant; on a real clock that is a std instant too.
    let start =
        std::time::Instant::now().checked_sub(clock.elapsed()).unwrap_or_else(std::time::Instant::now);
    std::thread::Builder::new().name("chaos-pacer".to_owned()).spawn(move || {
        // Without it the starts are only a little later: nothing to do if it is refused.
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_timerslack(1);
        let mut next_wake = start;
        let mut senders = senders.iter().cycle();
        for intended in schedule.take_while(|intended| *intended < end) {
            let due = start + intended;
            let now = std::time::Instant::now();
            if due > now {
                // Not before the tick is over: starts due meanwhile go out together.
                std::thread::sleep(due.max(next_wake) - now);
                next_wake = std::time::Instant::now() + TICK;
            }
            if senders.next().is_none_or(|sender| sender.send(intended).is_err()) {
                break;
            }
        }
    })?;
    Ok(dues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Process;

    #[tokio::test]
    async fn instants_arrive_in_order_close_to_due_and_stop_at_the_end() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 200.0, Duration::from_secs(1), 0);
        let mut due = start(schedule, Duration::from_millis(100), clock, 1).unwrap().remove(0);
        let mut seen = Vec::new();
        while let Some(intended) = due.recv().await {
            let late = clock.elapsed().saturating_sub(intended);
            assert!(late < Duration::from_millis(50), "{late:?} late");
            seen.push(intended);
        }
        assert_eq!(seen.len(), 20, "5 ms apart up to 100 ms");
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn shards_are_dealt_the_instants_in_turn() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 1000.0, Duration::from_secs(1), 0);
        let dues = start(schedule, Duration::from_millis(30), clock, 3).unwrap();
        let mut dealt = Vec::new();
        for mut due in dues {
            let mut mine = Vec::new();
            while let Some(intended) = due.recv().await {
                mine.push(intended);
            }
            dealt.push(mine);
        }
        assert_eq!(dealt.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 10], "{dealt:?}");
        // In turn: the first three instants to shards 0, 1, 2, the next three likewise, ...
        let in_turn: Vec<Duration> = (0..10).flat_map(|i| dealt.iter().map(move |mine| mine[i])).collect();
        assert!(in_turn.windows(2).all(|w| w[0] < w[1]), "{dealt:?}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_pacer_thread_sleeps_without_timer_slack() {
        let clock = RunClock::start_now();
        let schedule = Schedule::constant_rate(Process::Constant, 10.0, Duration::from_secs(10), 0);
        let mut due = start(schedule, Duration::from_secs(10), clock, 1).unwrap().remove(0);
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
