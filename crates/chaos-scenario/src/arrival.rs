//! Raw arrivals → checked [`Arrivals`]: an open model whose rate may change per phase (a step)
//! or ramp within one, with bursts at given instants; or a closed model of users with think
//! time. Each phase's segment starts and ends with the phase.

use std::time::Duration;

use serde_saphyr::Spanned;

use super::{
    build::{choose, Checked},
    error::Located,
    plan::{Arrivals, Phase},
    rate_profile::{Burst, Process, Segment},
    raw::{RawLoad, RawPhase},
};

const PROCESSES: &[(&str, Process)] = &[("constant", Process::Constant), ("poisson", Process::Poisson)];
use crate::most::{AT_ONCE as MOST_AT_ONCE, BURST_REQUESTS};

/// The load's arrivals over the built `phases` (whose raw forms are `raw_phases`).
pub fn build_arrivals(
    load: &RawLoad,
    raw_phases: &[Spanned<RawPhase>],
    phases: &[Phase],
) -> Checked<Arrivals> {
    let arrival = &load.arrival;
    if let Some(users) = &arrival.value.users {
        return closed(load, users, raw_phases);
    }
    if arrival.value.think.is_some() {
        return Err(Located::at(&arrival.referenced, "`think` goes with `users` (the closed model)"));
    }
    let process = match &arrival.value.process {
        Some(process) => choose("arrival process", process, PROCESSES)?,
        None => Process::Constant,
    };
    let base = arrival.value.rate.map(|r| r.0);
    let mut segments = Vec::with_capacity(phases.len());
    for (raw, phase) in raw_phases.iter().zip(phases) {
        let (from, to) = match (&raw.value.arrival, base) {
            (Some(own), _) => match (own.value.rate, own.value.ramp) {
                (Some(rate), None) => (rate.0, rate.0),
                (None, Some([from, to])) => (from.0, to.0),
                _ => return Err(Located::at(&own.referenced, "a phase's `arrival` needs exactly one of `rate` or `ramp: [from, to]`")),
            },
            (None, Some(rate)) => (rate, rate),
            (None, None) => {
                return Err(Located::at(
                    &raw.referenced,
                    format!("phase `{}` has no rate: give `load.arrival.rate`, or the phase an `arrival: {{ rate: … }}`", phase.name),
                ))
            }
        };
        segments.push(Segment { start: phase.start, end: phase.end(), from, to });
    }
    let end = phases.last().map_or(Duration::ZERO, Phase::end);
    let bursts = load
        .bursts
        .iter()
        .map(|burst| {
            let Spanned { value, referenced, .. } = burst;
            if value.at.0 >= end || value.requests == 0 || value.requests > MOST_AT_ONCE {
                return Err(Located::at(
                    referenced,
                    format!("a burst needs `at` within the timeline (before {}) and 1 to {MOST_AT_ONCE} `requests`", crate::units::HumanDuration(end)),
                ));
            }
            Ok(Burst { at: value.at.0, count: value.requests })
        })
        .collect::<Checked<Vec<Burst>>>()?;
    let total: u64 = bursts.iter().map(|burst| u64::from(burst.count)).sum();
    if total > BURST_REQUESTS {
        return Err(Located::at(
            &load.bursts[0].referenced,
            format!("the bursts add up to {total} requests; all bursts together may hold at most {BURST_REQUESTS}"),
        ));
    }
    Ok(Arrivals::Open { process, segments, bursts })
}

fn closed(load: &RawLoad, users: &Spanned<u32>, raw_phases: &[Spanned<RawPhase>]) -> Checked<Arrivals> {
    let arrival = &load.arrival;
    if arrival.value.rate.is_some() || arrival.value.process.is_some() {
        return Err(Located::at(
            &arrival.referenced,
            "`users` (closed model) and `rate`/`process` (open model) do not mix; choose one",
        ));
    }
    if users.value == 0 || users.value > MOST_AT_ONCE {
        return Err(Located::at(&users.referenced, format!("`users` must be 1 to {MOST_AT_ONCE}")));
    }
    let open_only = load
        .bursts
        .first()
        .map(|b| &b.referenced)
        .or_else(|| raw_phases.iter().find_map(|p| p.value.arrival.as_ref().map(|a| &a.referenced)));
    if let Some(at) = open_only {
        return Err(Located::at(
            at,
            "bursts and per-phase rates belong to the open model; the closed model has `users` only",
        ));
    }
    Ok(Arrivals::Closed { users: users.value, think: arrival.value.think.map_or(Duration::ZERO, |t| t.0) })
}
