//! `chaos run --role load`: one load shard of a split run, whose results the upstreams role
//! writes ([`crate::runner::split`]).

use std::io::Write;

use super::interrupted;
use crate::{
    runner::{self, split::desk_client::DeskClient},
    scenario::Plan,
    Exit,
};

/// Plays `plan` (this shard's part) as a load shard checked in with the upstreams role at
/// `coordinator`, presenting `token`; exit 0 once its records are handed over (130 when Ctrl-C
/// stopped it first), 2 when the coordinator's address cannot be used, 3 when the upstreams
/// role refused the shard or could not be reached.
pub async fn load_shard(plan: &Plan, coordinator: &str, token: Option<String>) -> anyhow::Result<Exit> {
    let desk = match DeskClient::new(coordinator, token, plan.allow_remote).await {
        Ok(desk) => desk,
        Err(error) => {
            eprintln!("error: {error:#}");
            return Ok(Exit::InvalidScenario);
        }
    };
    println!("load shard {} of {}: checking in with {coordinator}", plan.shard, plan.summary());
    let _ = std::io::stdout().flush();
    match runner::split::load_role::run_shard(plan, &desk, interrupted()).await {
        Ok(run) => {
            println!(
                "shard {}: {} request(s) handed over to the upstreams role, which writes the results",
                plan.shard, run.requests
            );
            Ok(if run.interrupted { Exit::Interrupted } else { Exit::Pass })
        }
        Err(error) if error.is::<runner::NothingRun>() => {
            eprintln!("{error}");
            Ok(Exit::Interrupted)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(Exit::InvalidRun)
        }
    }
}
