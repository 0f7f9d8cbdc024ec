//! The load generator: starts logical requests on an open-model schedule through the built-in
//! client and records each one, timed from its intended start.
//!
//! The schedule ([`schedule`]) and the worker ([`client`]) are kept apart: the driver only
//! waits for each intended instant and spawns; it never waits for a reply.

pub mod client;
pub mod retry;
pub mod schedule;

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{sync::watch, task::JoinSet};

pub use client::{BuiltinClient, ClientConfig};
pub use schedule::{Process, Schedule};

use crate::metrics::{LogicalRecord, Outcome, Recorder, RunClock};

/// Logical requests started but not finished: id → (intended, sent).
type InFlight = Arc<Mutex<HashMap<u64, (Duration, Duration)>>>;

/// A running load generator.
pub struct Load {
    tasks: JoinSet<()>,
    in_flight: InFlight,
    clock: RunClock,
    recorder: Recorder,
}

/// Starts sending on `schedule` until the intended start reaches `end` or `stop` turns true.
pub fn start(
    mut schedule: Schedule,
    end: Duration,
    client: BuiltinClient,
    clock: RunClock,
    recorder: Recorder,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Load> {
    tokio::spawn(async move {
        let in_flight: InFlight = Arc::default();
        let mut tasks = JoinSet::new();
        let mut id = 0u64;
        for intended in schedule.by_ref() {
            if intended >= end || *stop.borrow() {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(clock.at(intended)) => {}
                _ = stop.changed() => break,
            }
            id += 1;
            let sent = clock.elapsed();
            in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(id, (intended, sent));
            let (client, recorder, in_flight) = (client.clone(), recorder.clone(), Arc::clone(&in_flight));
            tasks.spawn(async move {
                let completion = client.send(id).await;
                in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                recorder.logical(LogicalRecord {
                    id,
                    intended,
                    sent,
                    finished: clock.elapsed(),
                    client_attempts: completion.attempts,
                    outcome: completion.outcome,
                });
            });
            while tasks.try_join_next().is_some() {}
        }
        Load { tasks, in_flight, clock, recorder }
    })
}

impl Load {
    /// Waits up to `bound` for requests in flight, or up to `interrupt_bound` more once
    /// `interrupt` resolves; those still running are stopped and recorded as
    /// [`Outcome::Unfinished`], so nothing started goes unrecorded. Returns whether the
    /// interrupt fired.
    pub async fn drain(
        mut self,
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
        self.tasks.shutdown().await;
        let finished = self.clock.elapsed();
        let left: Vec<_> = self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        for (id, (intended, sent)) in left {
            self.recorder.logical(LogicalRecord {
                id,
                intended,
                sent,
                finished,
                client_attempts: 0,
                outcome: Outcome::Unfinished,
            });
        }
        interrupted
    }
}
