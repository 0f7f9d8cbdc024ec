//! `zone_loss`: every upstream labelled with a zone goes dark at once during a phase — the
//! availability-zone game day. Expands into a connection fault placed first on each of those
//! upstreams' chains: `reset` (connections die with a TCP RST) or `blackhole` (requests are
//! accepted and never answered).

use super::{
    build::{one_of, Checked},
    error::Located,
    plan::Upstream,
    raw::RawZoneLoss,
};
use crate::fault::{FaultAction, FaultRule, HangFault, ResetFault};

/// The fault every upstream in the lost zone gets.
pub(super) fn zone_loss_rule(loss: &RawZoneLoss, upstreams: &[Upstream]) -> Checked<FaultRule> {
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
        Some(mode) if mode.value == "refuse" => {
            let message = "`mode: refuse` is not supported yet (the interposer cannot stop listening); use `reset` or `blackhole`";
            return Err(Located::at(&mode.referenced, message));
        }
        Some(mode) => {
            one_of("zone-loss mode", mode, ["reset", "blackhole"])?;
            if mode.value == "reset" {
                FaultAction::Reset(ResetFault)
            } else {
                FaultAction::Hang(HangFault { duration: None })
            }
        }
    };
    Ok(FaultRule::new(action, 1.0))
}
