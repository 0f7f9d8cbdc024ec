//! The load generator: starts logical requests on an open-model schedule and records each one,
//! timed from its intended start.
//!
//! The schedule ([`schedule`]) and the client ([`client`]) are kept apart: the driver only
//! waits for each intended instant and spawns; it never waits for a reply. It also keeps an
//! honest account of itself ([`generator`]): how late each start was, and the starts it had to
//! skip because `max_in_flight` requests were already waiting. The driver, the requests and
//! their connections run on a thread of their own with a current-thread runtime (`thread`), so
//! a request's send and its answer never wait for another thread to wake.
//!
//! With `connections: N`, at most N requests are on the wire at once, like a client with a
//! fixed pool (wrk2's and oha's `-c`): a start that finds every connection busy waits for one,
//! and its latency still counts from its intended start — the wait is the target's doing, and
//! is exactly what coordinated omission would hide. Service time counts from the actual send.

pub mod agent;
mod bedrock_body;
pub mod body;
pub mod client;
mod embeddings_body;
mod gemini_body;
pub mod generator;
pub mod observe;
mod pacer;
pub mod schedule;
mod thread;
mod unfinished;

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinSet};

pub use client::{ClientConfig, LoadClient, Route};
pub use generator::{GeneratorParts, GeneratorReport, GeneratorStats};
pub use schedule::Schedule;
pub use thread::LoadThreads;

use unfinished::Unfinished;

use crate::{
    metrics::{LogicalRecord, Recorder, RunClock},
    scenario::{plan::Limits, request_mix::RequestMix},
};

/// What each logical request sends, and through what.
#[derive(Debug, Clone)]
pub struct Sender {
    pub client: LoadClient,
    pub mix: Arc<RequestMix>,
    /// Prompt text of the mix's largest prompt; each request sends a prefix of it.
    pub prompt: Arc<str>,
    pub seed: u64,
}

impl Sender {
    pub fn new(client: LoadClient, mix: RequestMix, seed: u64) -> Self {
        let prompt = crate::wire::tokens::prompt_text(u64::from(mix.largest_prompt()));
        Sender { client, mix: Arc::new(mix), prompt: Arc::from(prompt), seed }
    }

    /// The same sender with a connection pool of its own, for a load thread of its own.
    fn with_own_connections(&self) -> Self {
        Sender { client: self.client.with_own_pool(), ..self.clone() }
    }

    /// Sends logical request `id` (free to go since `ready`); returns its record and the
    /// answer's inter-token gaps. Its service time counts from when its first attempt went out.
    async fn send(
        &self,
        id: u64,
        intended: Duration,
        ready: Duration,
        clock: RunClock,
        key: Option<usize>,
    ) -> (LogicalRecord, Vec<u32>) {
        let (_kind, spec) = self.mix.pick(self.seed, id);
        let completion = self.client.send(id, &spec, &self.prompt).await;
        let record = LogicalRecord {
            id,
            intended,
            sent: completion.sent.unwrap_or(ready),
            finished: clock.elapsed(),
            client_attempts: completion.attempts,
            outcome: completion.outcome,
            served_by: completion.served_by,
            answer: completion.answer,
            key,
        };
        (record, completion.gaps_us)
    }

    /// The index of the pool key logical request `id` presents, when the target has a pool.
    fn key_of(&self, id: u64) -> Option<usize> {
        self.client.key_pool().map(|len| crate::scenario::key_pool::KeyPool::index_for(id, len))
    }
}

/// A load generator whose driver has stopped, on its thread: the requests still running.
pub struct Load {
    tasks: JoinSet<()>,
    /// The generator's own account: lateness and skipped starts.
    pub generator: GeneratorStats,
}

/// Runs logical requests and records each exactly once, finished or not.
#[derive(Clone)]
struct Tracker {
    sender: Sender,
    recorder: Recorder,
    clock: RunClock,
    /// The connection pool, when the load has one.
    connections: Option<Arc<tokio::sync::Semaphore>>,
}

impl Tracker {
    /// Runs logical request `id`, meant to start at `intended`, to its end and records it.
    async fn run(&self, id: u64, intended: Duration) {
        let clock = self.clock;
        self.recorder.started(id, intended);
        let key = self.sender.key_of(id);
        let mut unfinished = Unfinished::new(id, intended, key, self.recorder.clone(), clock);
        // Waits for a connection if the pool is full (the semaphore is never closed).
        let _connection = match &self.connections {
            Some(pool) => Arc::clone(pool).acquire_owned().await.ok(),
            None => None,
        };
        unfinished.sent = clock.elapsed();
        let (record, gaps_us) = self.sender.send(id, intended, unfinished.sent, clock, key).await;
        unfinished.disarm();
        self.recorder.token_gaps(intended, &gaps_us);
        self.recorder.logical(record);
    }
}

/// The rate each load thread is given before the load is spread over one more (up to one per
/// core). One thread sends and reads for every request it starts; near 35,000 /s it has no
/// core left to read its answers on time (measured against `oha` on 2 cores, BENCHMARKS.md), and
/// below 10,000 /s a second thread would only add wake-ups.
const RATE_PER_THREAD: f64 = 10_000.0;

/// How many load threads a schedule peaking at `peak_rate` gets: never more than the cores, nor
/// than the connections it may use or the requests it may have unfinished (each thread holds
/// at least one of each).
fn load_threads(peak_rate: f64, limits: &Limits) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let wanted = (peak_rate / RATE_PER_THREAD).ceil() as usize;
    let most = limits.connections.unwrap_or(usize::MAX).min(limits.max_in_flight);
    wanted.min(cores).min(most).max(1)
}

/// Starts sending on `schedule` (the open model) until the intended start reaches `end` or
/// `stop` turns true; a start that finds `max_in_flight` requests unfinished is skipped and
/// counted as missed. A high rate is spread over several load threads ([`load_threads`]), each
/// with its own connections; each start goes to the thread with the fewest unfinished.
pub fn start(
    schedule: Schedule,
    end: Duration,
    sender: Sender,
    limits: Limits,
    clock: RunClock,
    recorder: Recorder,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<LoadThreads> {
    let shards = load_threads(schedule.peak_rate(), &limits);
    let timeout = sender.client.timeout();
    let (dealt, cutoff) = pacer::start(schedule, end, clock, shards)?;
    // A stop deals no start intended after it; those due before it still go out, however late
    // the pacer is with them. A dropped sender stops the load too.
    tokio::spawn(async move {
        let _ = stop.changed().await;
        cutoff.stop_at(clock.elapsed());
    });
    let drivers = dealt.into_iter().enumerate().map(|(shard, dealt)| {
        let limits = limits.share(shard, shards);
        let tracker = Tracker::new(sender.with_own_connections(), limits, clock, recorder.clone());
        move || drive(dealt, tracker, limits)
    });
    LoadThreads::spawn(timeout, drivers.collect::<Vec<_>>())
}

/// One load thread's driver: spawns a request for each start dealt to it (numbered by the
/// pacer, so the threads' numbers never meet and rise with the intended instants), and counts
/// each down as it ends, until the pacer deals no more (the schedule's end, or a stop: see
/// [`pacer::Cutoff`]).
async fn drive(pacer::Dealt { mut due, open }: pacer::Dealt, tracker: Tracker, limits: Limits) -> Load {
    let clock = tracker.clock;
    let mut tasks = JoinSet::new();
    let mut generator = GeneratorStats::default();
    // Every start dealt is counted, sent or missed: the driver never leaves one in the channel.
    while let Some(pacer::Start { id, intended }) = due.recv().await {
        while tasks.try_join_next().is_some() {}
        if tasks.len() >= limits.max_in_flight {
            generator.missed();
            open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            continue;
        }
        generator.started(clock.elapsed().saturating_sub(intended));
        let (tracker, open) = (tracker.clone(), Arc::clone(&open));
        // Boxed: the request's future is large (2,152 bytes when it was measured: the attempt, its
        // timeouts, the send), and tokio moved it four times on its way into and out of the task, ~2,900
        // instructions of `memcpy` a request (`benches/generator_instructions.sh`); a box moves
        // as a pointer.
        tasks.spawn(Box::pin(async move {
            tracker.run(id, intended).await;
            open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }));
    }
    tracker.into_load(tasks, generator)
}

/// A closed model's users.
#[derive(Debug, Clone, Copy)]
pub struct Users {
    pub count: u32,
    /// How long each waits after an answer before its next request.
    pub think: Duration,
    /// Which shard of the plan's load they are, for the plan's ids of their requests.
    pub numbering: crate::scenario::shard::Shard,
}

/// Starts `users` closed-model users until `end` or `stop`: each sends a request, waits for its
/// end, thinks, and sends the next. A closed model slows down with the target, so its latency
/// is its service time: there is no schedule to fall behind.
pub fn start_closed(
    users: Users,
    end: Duration,
    sender: Sender,
    clock: RunClock,
    recorder: Recorder,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<LoadThreads> {
    let tracker =
        Tracker::new(sender, Limits { max_in_flight: usize::MAX, connections: None }, clock, recorder);
    LoadThreads::spawn(
        tracker.sender.client.timeout(),
        [move || async move {
            let ids = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut tasks = JoinSet::new();
            for _ in 0..users.count {
                let (tracker, ids, mut stop) = (tracker.clone(), Arc::clone(&ids), stop.clone());
                tasks.spawn(async move {
                    while clock.elapsed() < end && !*stop.borrow() {
                        let local = ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        tracker.run(users.numbering.id(local), clock.elapsed()).await;
                        tokio::select! {
                            () = tokio::time::sleep(users.think) => {}
                            _ = stop.changed() => break,
                        }
                    }
                });
            }
            tokio::select! {
                () = tokio::time::sleep_until(clock.at(end)) => {}
                _ = stop.changed() => {}
            }
            let generator = GeneratorStats::unscheduled(ids.load(std::sync::atomic::Ordering::Relaxed));
            tracker.into_load(tasks, generator)
        }],
    )
}

impl Tracker {
    fn new(sender: Sender, limits: Limits, clock: RunClock, recorder: Recorder) -> Self {
        let connections = limits.connections.map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
        Tracker { sender, recorder, clock, connections }
    }

    fn into_load(self, tasks: JoinSet<()>, generator: GeneratorStats) -> Load {
        Load { tasks, generator }
    }
}

impl Load {
    /// Waits up to `bound` for requests in flight, or up to `interrupt_bound` more once
    /// `interrupt` resolves; those still running are stopped and recorded as
    /// unfinished, so nothing started goes unrecorded. Returns whether the
    /// interrupt fired.
    async fn drain(
        &mut self,
        bound: Duration,
        interrupt_bound: Duration,
        interrupt: impl Future<Output = ()>,
    ) -> bool {
        let mut deadline = tokio::time::Instant::now() + bound;
        let mut interrupt = std::pin::pin!(interrupt);
        let mut interrupted = false;
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { break },
                () = tokio::time::sleep_until(deadline) => break,
                () = &mut interrupt, if !interrupted => {
                    interrupted = true;
                    deadline = deadline.min(tokio::time::Instant::now() + interrupt_bound);
                }
            }
        }
        // Stopping a task drops its request's guard, which records it as unfinished.
        self.tasks.shutdown().await;
        interrupted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_high_rate_gets_more_threads_but_never_more_than_cores_or_connections() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let open = Limits { max_in_flight: 10_000, connections: None };
        assert_eq!(load_threads(500.0, &open), 1);
        assert_eq!(load_threads(RATE_PER_THREAD, &open), 1);
        assert_eq!(load_threads(4.0 * RATE_PER_THREAD, &open), cores.min(4));
        assert_eq!(load_threads(1e9, &open), cores);
        let one_connection = Limits { connections: Some(1), ..open };
        assert_eq!(load_threads(1e9, &one_connection), 1);
        let one_in_flight = Limits { max_in_flight: 1, connections: None };
        assert_eq!(load_threads(1e9, &one_in_flight), 1, "each thread would hold one");
    }

    #[test]
    fn the_threads_shares_add_up_to_the_limits() {
        let limits = Limits { max_in_flight: 10_001, connections: Some(50) };
        let shares: Vec<Limits> = (0..3).map(|shard| limits.share(shard, 3)).collect();
        assert_eq!(shares.iter().map(|l| l.max_in_flight).sum::<usize>(), 10_001);
        assert_eq!(shares.iter().filter_map(|l| l.connections).collect::<Vec<_>>(), [17, 17, 16]);
        assert_eq!(limits.share(0, 1).connections, Some(50), "one thread keeps them all");
    }
}
