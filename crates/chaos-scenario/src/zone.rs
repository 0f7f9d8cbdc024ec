//! `zone_loss`: every upstream labelled with a zone goes dark at once during a phase — the
//! availability-zone game day: `reset` (connections die with a TCP RST), `blackhole` (requests
//! are accepted and never answered) — both a connection fault placed first on each of those
//! upstreams' chains — or `refuse` (their interposers stop listening: connections are refused,
//! open ones reset).

use super::{
    build::{one_of, Checked},
    error::Located,
    plan::Upstream,
    raw::RawZoneLoss,
};
use crate::fault::{FaultAction, FaultRule, HangFault, ResetFault};

/// How the lost zone's upstreams go dark.
pub(super) enum Darkness {
    /// This fault first on their chains.
    Fault(Box<FaultRule>),
    /// Their interposers stop listening.
    Refuse,
}

/// How every upstream in the lost zone goes dark.
pub(super) fn zone_loss(loss: &RawZoneLoss, upstreams: &[Upstream]) -> Checked<Darkness> {
    let mut zones: Vec<&str> = upstreams.iter().filter_map(|u| u.zone.as_deref()).collect();
    zones.sort_unstable();
    zones.dedup();
    if zones.is_empty() {
        return Err(Located::at(
            &loss.zone.referenced,
            "no upstream has a `zone`; label upstreams with `zone: a` first",
        ));
    }
    one_of("zone", &loss.zone, zones.iter().copied())?;
    let action = match &loss.mode {
        None => FaultAction::Reset(ResetFault),
        Some(mode) => {
            one_of("zone-loss mode", mode, ["reset", "blackhole", "refuse"])?;
            match mode.value.as_str() {
                "refuse" => return Ok(Darkness::Refuse),
                "reset" => FaultAction::Reset(ResetFault),
                _ => FaultAction::Hang(HangFault { duration: None }),
            }
        }
    };
    Ok(Darkness::Fault(Box::new(FaultRule::new(action, 1.0))))
}
