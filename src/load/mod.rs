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
    /// Waits up to `bound` for requests in flight; those still running are stopped and
    /// recorded as [`Outcome::Unfinished`], so nothing started goes unrecorded.
    pub async fn drain(mut self, bound: Duration) {
        let _ = tokio::time::timeout(bound, async { while self.tasks.join_next().await.is_some() {} }).await;
        self.tasks.abort_all();
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
    }
}
