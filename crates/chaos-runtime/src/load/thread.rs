//! The load generator's own thread: a current-thread tokio runtime that runs the driver, every
//! request's task, the client's connections and their replies, so a request never waits for
//! another thread to wake up between its send and its answer. A rate one core cannot carry is
//! dealt over several such threads (shards), each whole in itself. On the run's multi-threaded
//! runtime, each request at a low rate found the workers parked and crossed threads several
//! times (6.7 context switches a request at 500/s, measured with `perf stat`, against 3.6 on
//! one worker); every crossing was time inside the measured interval.
//!
//! The rest of the run (mocks, interposers, monitor) stays on the caller's runtime; results
//! reach the [`Recorder`](crate::metrics::Recorder) as before, from this thread. The run clock
//! is shared, which holds on a real clock; a caller with tokio's paused clock would see this
//! thread's real one instead.

use std::{future::Future, time::Duration};

use tokio::sync::oneshot;

use super::{GeneratorStats, Load};

/// What the drain may take: `bound`, or `interrupt_bound` once `interrupt` fires.
struct DrainOrder {
    bound: Duration,
    interrupt_bound: Duration,
    interrupt: oneshot::Receiver<()>,
}

/// One load thread: where its drain order goes, and where its account comes back.
struct Shard {
    orders: oneshot::Sender<DrainOrder>,
    done: oneshot::Receiver<(GeneratorStats, bool)>,
}

/// A load generator running on threads of its own: one, or several shards of one schedule
/// (each with its own runtime, connections and share of the starts) when one thread's core
/// would not keep up with the rate.
pub struct LoadThreads {
    shards: Vec<Shard>,
}

impl LoadThreads {
    /// Starts a thread with its own current-thread runtime for each of `starts` and runs it
    /// there; the load it returns (the driver has stopped by then) waits for
    /// [`LoadThreads::drain`]. `timeout` is the shortest timer a request arms (see
    /// [`keep_a_timer_armed`]).
    pub fn spawn<F, Fut>(timeout: Duration, starts: impl IntoIterator<Item = F>) -> std::io::Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Load>,
    {
        let shards = starts.into_iter().map(|start| spawn_shard(timeout, start));
        Ok(LoadThreads { shards: shards.collect::<std::io::Result<_>>()? })
    }

    /// Once the drivers have stopped (at the schedule's end or when told to), waits up to
    /// `bound` for requests in flight, or up to `interrupt_bound` more once `interrupt`
    /// resolves; those still running are stopped and recorded as unfinished. Returns the
    /// generator's account, every shard's in one, and whether the interrupt fired.
    pub async fn drain(
        self,
        bound: Duration,
        interrupt_bound: Duration,
        interrupt: impl Future<Output = ()>,
    ) -> anyhow::Result<(GeneratorStats, bool)> {
        let stopped = || anyhow::anyhow!("the load generator stopped unexpectedly");
        let mut fires = Vec::with_capacity(self.shards.len());
        let mut outcomes = Vec::with_capacity(self.shards.len());
        for shard in self.shards {
            let (fire, fired) = oneshot::channel();
            shard
                .orders
                .send(DrainOrder { bound, interrupt_bound, interrupt: fired })
                .map_err(|_| stopped())?;
            fires.push(fire);
            outcomes.push(shard.done);
        }
        // Every shard drains at once; waiting for them in turn takes as long as the slowest.
        let all_done = async move {
            let mut merged: Option<(GeneratorStats, bool)> = None;
            for outcome in outcomes {
                let (generator, interrupted) = outcome.await.map_err(|_| stopped())?;
                match &mut merged {
                    Some((all, any_interrupted)) => {
                        all.absorb(generator);
                        *any_interrupted |= interrupted;
                    }
                    None => merged = Some((generator, interrupted)),
                }
            }
            merged.ok_or_else(stopped)
        };
        let mut all_done = std::pin::pin!(all_done);
        let mut interrupt = std::pin::pin!(interrupt);
        loop {
            tokio::select! {
                merged = &mut all_done => return merged,
                () = &mut interrupt, if !fires.is_empty() => {
                    for fire in fires.drain(..) {
                        let _ = fire.send(());
                    }
                }
            }
        }
    }
}

/// Starts one load thread running `start`.
fn spawn_shard<F, Fut>(timeout: Duration, start: F) -> std::io::Result<Shard>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Load>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (orders, ordered) = oneshot::channel::<DrainOrder>();
    let (finished, done) = oneshot::channel();
    std::thread::Builder::new().name("chaos-load".to_owned()).spawn(move || {
        let outcome = runtime.block_on(async move {
            tokio::spawn(keep_a_timer_armed(timeout));
            let mut load = start().await;
            let order = ordered.await.ok()?;
            let interrupt = async {
                // A dropped sender means no interrupt will come.
                if order.interrupt.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let interrupted = load.drain(order.bound, order.interrupt_bound, interrupt).await;
            Some((load.generator, interrupted))
        });
        // Dropping the runtime closes the load's connections before the caller hears back.
        drop(runtime);
        if let Some(outcome) = outcome {
            let _ = finished.send(outcome);
        }
    })?;
    Ok(Shard { orders, done })
}

/// Keeps a timer always due within `timeout` (at most a second). tokio's timer wakes its
/// runtime whenever a new timer is due before the earliest one it sleeps for; on a thread with
/// nothing else armed, that was every request's timeout at a low rate: an `eventfd` write and one
/// more `epoll_wait` inside the measured interval (seen with `perf trace`). With this one armed,
/// a request's timeout is never the earliest, and the cost is a wake-up a second.
async fn keep_a_timer_armed(timeout: Duration) {
    let period = timeout.clamp(Duration::from_millis(1), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::{runtime::RuntimeFlavor, task::JoinSet};

    use super::*;

    /// Tells, when dropped, that its task was stopped.
    struct Stopped(Option<oneshot::Sender<()>>);

    impl Drop for Stopped {
        fn drop(&mut self) {
            if let Some(told) = self.0.take() {
                let _ = told.send(());
            }
        }
    }

    /// A load with one task that finishes at once (noting where it ran) and one that never does.
    fn load_with_a_stuck_task(seen: Arc<Mutex<Vec<String>>>, stopped: oneshot::Sender<()>) -> Load {
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let flavor = tokio::runtime::Handle::current().runtime_flavor();
            let name = std::thread::current().name().unwrap_or_default().to_owned();
            if let Ok(mut seen) = seen.lock() {
                seen.push(format!("{name} {}", flavor == RuntimeFlavor::CurrentThread));
            }
        });
        tasks.spawn(async move {
            let _stopped = Stopped(Some(stopped));
            std::future::pending::<()>().await;
        });
        Load { tasks, generator: GeneratorStats::unscheduled(2) }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_load_runs_on_its_own_current_thread_runtime_and_drains_within_its_bound() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stopped, was_stopped) = oneshot::channel();
        let load = {
            let seen = Arc::clone(&seen);
            LoadThreads::spawn(
                Duration::from_secs(1),
                [move || async move { load_with_a_stuck_task(seen, stopped) }],
            )
            .unwrap()
        };
        let started = std::time::Instant::now();
        let (generator, interrupted) =
            load.drain(Duration::from_millis(100), Duration::ZERO, std::future::pending()).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(100), "waited its bound");
        assert_eq!((generator.sent, interrupted), (2, false));
        assert!(was_stopped.await.is_ok(), "the stuck task was stopped");
        assert_eq!(*seen.lock().unwrap(), ["chaos-load true"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shards_each_run_on_a_load_thread_and_drain_into_one_account() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shards: Vec<_> = (0..2)
            .map(|_| {
                let (seen, (stopped, _)) = (Arc::clone(&seen), oneshot::channel());
                move || async move { load_with_a_stuck_task(seen, stopped) }
            })
            .collect();
        let load = LoadThreads::spawn(Duration::from_secs(1), shards).unwrap();
        let (generator, interrupted) =
            load.drain(Duration::from_millis(50), Duration::ZERO, std::future::pending()).await.unwrap();
        let report = generator.report(Duration::from_secs(1));
        assert_eq!((report.sent, report.threads, interrupted), (4, 2, false));
        assert_eq!(*seen.lock().unwrap(), ["chaos-load true", "chaos-load true"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_armed_timer_takes_any_timeout_even_zero() {
        for timeout in [Duration::ZERO, Duration::from_millis(30), Duration::from_secs(600)] {
            let armed = tokio::spawn(keep_a_timer_armed(timeout));
            tokio::time::advance(Duration::from_secs(3)).await;
            assert!(!armed.is_finished(), "{timeout:?}");
            armed.abort();
        }
    }

    #[tokio::test]
    async fn an_interrupt_cuts_the_drain_short() {
        let (stopped, _was_stopped) = oneshot::channel();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let load = LoadThreads::spawn(
            Duration::from_secs(1),
            [move || async move { load_with_a_stuck_task(seen, stopped) }],
        )
        .unwrap();
        let started = std::time::Instant::now();
        let interrupt = tokio::time::sleep(Duration::from_millis(20));
        let (_, interrupted) = load.drain(Duration::from_secs(30), Duration::ZERO, interrupt).await.unwrap();
        assert!(interrupted);
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    }
}
