//! `chaos check`: the preflight alone. Binds the interposers' addresses, readies the target
//! (a `command` target is started, then stopped) and sends a few probe requests through it;
//! exit 0 when each reached an interposer, 3 when the target goes around them, with what to fix.

use std::path::Path;

use super::{interrupted, invalid};
use crate::{runner, scenario, Exit};

/// Checks that the target of the scenario at `file` reaches its interposers.
pub async fn check(file: &Path, allow_remote: bool, listen: &[String]) -> anyhow::Result<Exit> {
    let mut plan = match scenario::load_allowing_remote(file, allow_remote) {
        Ok(plan) => plan,
        Err(error) => return Ok(invalid(&error)),
    };
    let remote = plan.allow_remote;
    if let Err(refusal) = super::listen::apply(&mut plan, listen, remote) {
        eprintln!("error: --listen: {refusal}");
        return Ok(Exit::InvalidScenario);
    }
    let checked = tokio::select! {
        checked = runner::preflight_only(&plan, true) => checked,
        () = interrupted() => {
            eprintln!("interrupted during the preflight");
            return Ok(Exit::Interrupted);
        }
    };
    match checked {
        Ok(Some(preflight)) => {
            println!("{}", runner::passed_line(&preflight));
            Ok(Exit::Pass)
        }
        Ok(None) => {
            println!("ok: the built-in client sends to the interposers itself; there is nothing to check");
            Ok(Exit::Pass)
        }
        Err(error) => super::user_exit(&error).ok_or(error),
    }
}
