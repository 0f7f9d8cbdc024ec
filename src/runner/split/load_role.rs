//! A load shard of a split run (`--role load --shard K/N --coordinator URL`): checks in with the
//! upstreams role's desk until every shard has, starts its run clock at the instant the desk
//! gives, drives its part of the load through the target, drains, and hands its records over.
//! It starts no mock and no interposer: a built-in target's client sends to the upstreams'
//! `listen:` addresses (the upstreams role's interposers), a `url` target to the gateway.

use std::{future::Future, time::Duration};

use anyhow::Context;
use tokio::sync::watch;

use super::{
    desk_client::DeskClient,
    hand_over::{CheckIn, ShardRecords, StartAt},
    CHECK_IN_WAIT,
};
use crate::{
    metrics::{Recorder, RunClock},
    scenario::{plan::Target, Plan},
};

/// How often it asks while it waits.
const CHECK_IN_EVERY: Duration = Duration::from_millis(250);
/// How late a shard may learn the start instant and still play: beyond it, the run has begun
/// without it.
const LATEST_START_MS: u64 = 100;
/// How long it keeps trying to hand its records over.
const HAND_OVER_WAIT: Duration = Duration::from_secs(60);

/// What a shard did.
#[derive(Debug)]
pub struct ShardRun {
    /// Logical requests it started.
    pub requests: usize,
    /// Whether Ctrl-C stopped it before its load's end.
    pub interrupted: bool,
}

/// Plays `plan` (already this shard's: [`Plan::sharded`]) as a load shard coordinated by
/// `desk`; `shutdown` stops it early, keeping what it measured.
pub async fn run_shard(
    plan: &Plan,
    desk: &DeskClient,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<ShardRun> {
    if matches!(plan.target, Target::Command(_)) {
        anyhow::bail!("a load shard drives a `url` or built-in target; a `command` target is not split yet");
    }
    let interposers: Vec<std::net::SocketAddr> = plan.upstreams.iter().map(|u| u.listen).collect();
    let filled = plan.with_upstreams_filled(&interposers);
    let plan = filled.as_ref().unwrap_or(plan);
    if let (Target::Builtin(_), Some(upstream)) =
        (&plan.target, plan.upstreams.iter().find(|u| u.listen.port() == 0))
    {
        anyhow::bail!(
            "upstream `{}` has no fixed address: a shard's built-in client sends to the upstreams role's \
             interposers, so give each one (`listen:`, or --listen {}=IP:PORT)",
            upstream.name,
            upstream.name
        );
    }
    // Set up before the start instant, so that none of it counts as the generator's lateness.
    let target = crate::target::start(plan, &interposers, &std::env::temp_dir()).await?;
    let mut shutdown = std::pin::pin!(shutdown);
    let start_at = tokio::select! {
        start_at = check_in(plan, desk) => start_at?,
        () = shutdown.as_mut() => return Err(super::super::NothingRun("checking in with the upstreams role").into()),
    };
    tokio::select! {
        () = super::sleep_until_unix_ms(start_at) => {}
        () = shutdown.as_mut() => return Err(super::super::NothingRun("waiting for the start").into()),
    }
    let late_ms = super::unix_ms(std::time::SystemTime::now()).saturating_sub(start_at);
    if late_ms > LATEST_START_MS {
        anyhow::bail!("the run started {late_ms} ms before this shard could: a shard cannot join a run late");
    }
    let clock = RunClock::start_now();
    let recorder = Recorder::keeping_gaps();
    let (stop_load, stopped) = watch::channel(false);
    let load = super::super::start::start_load(plan, target.client, clock, &recorder, stopped)?;
    let interrupted = tokio::select! {
        () = tokio::time::sleep_until(clock.at(plan.duration())) => false,
        () = shutdown.as_mut() => true,
    };
    let _ = stop_load.send(true);
    let bound = if interrupted { super::super::INTERRUPT_DRAIN } else { plan.load.drain };
    // Once interrupted, the shutdown future is spent: the drain then waits out its bound.
    let drain_interrupt = async {
        if interrupted {
            std::future::pending::<()>().await;
        }
        shutdown.await;
    };
    let (generator, _) = load.drain(bound, super::super::INTERRUPT_DRAIN, drain_interrupt).await?;
    let kept = recorder.take();
    let requests = kept.logical.len();
    let records = ShardRecords {
        index: plan.shard.index,
        count: plan.shard.count,
        logical: kept.logical,
        token_gaps: kept.token_gaps,
        generator: generator.to_parts(),
        interrupted,
    };
    hand_over(desk, &records).await?;
    Ok(ShardRun { requests, interrupted })
}

/// Checks in until the desk gives the start instant.
async fn check_in(plan: &Plan, desk: &DeskClient) -> anyhow::Result<u64> {
    let path = format!("/split/shards/{}/ready", plan.shard.index);
    let check_in = CheckIn { count: plan.shard.count, scenario: super::scenario_digest(&plan.source) };
    let body = bytes::Bytes::from(serde_json::to_vec(&check_in)?);
    let deadline = tokio::time::Instant::now() + CHECK_IN_WAIT;
    let (mut told_waiting, mut told_unreachable) = (false, false);
    loop {
        match desk.post(&path, body.clone()).await {
            Ok((status, answer)) if status.is_success() => {
                let answer: StartAt =
                    serde_json::from_slice(&answer).context("the desk's answer to a check-in")?;
                if let Some(start_at) = answer.start_at_unix_ms {
                    return Ok(start_at);
                }
                if !told_waiting {
                    println!("checked in; waiting for {} more shard(s)", answer.waiting_for);
                    told_waiting = true;
                }
            }
            // A proxy in front of the desk, or the desk at its connection cap: ask again.
            Ok((status, _)) if status.is_server_error() => {}
            Ok((status, answer)) => {
                anyhow::bail!(
                    "the upstreams role refused shard {}: {status} {}",
                    plan.shard,
                    String::from_utf8_lossy(&answer)
                )
            }
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(error) => {
                if !told_unreachable {
                    eprintln!("cannot reach the upstreams role yet ({error:#}); trying again");
                    told_unreachable = true;
                }
            }
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("the other shards did not check in within {}s", CHECK_IN_WAIT.as_secs());
        }
        tokio::time::sleep(CHECK_IN_EVERY).await;
    }
}

/// Hands the records over, trying again while the desk cannot be reached.
async fn hand_over(desk: &DeskClient, records: &ShardRecords) -> anyhow::Result<()> {
    let path = format!("/split/shards/{}/records", records.index);
    let body = bytes::Bytes::from(serde_json::to_vec(records)?);
    let deadline = tokio::time::Instant::now() + HAND_OVER_WAIT;
    loop {
        match desk.post(&path, body.clone()).await {
            Ok((status, _)) if status.is_success() => return Ok(()),
            // An earlier try arrived and its answer was lost.
            Ok((http::StatusCode::CONFLICT, answer))
                if String::from_utf8_lossy(&answer).contains("already handed over") =>
            {
                return Ok(())
            }
            Ok((status, answer)) => {
                anyhow::bail!(
                    "the upstreams role refused the records: {status} {}",
                    String::from_utf8_lossy(&answer)
                )
            }
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(error.context("handing the records over"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}
