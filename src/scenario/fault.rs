//! Raw fault → checked [`FaultRule`]: exactly one action, checked against the upstream's API
//! family, with its dosing.

use serde_saphyr::Spanned;

use super::{
    build::{choose, Checked},
    error::Located,
    raw::{RawFault, RawInject, RawLatency},
};
use crate::{
    fault::{
        supported_statuses, BandwidthFault, CutFault, DelayDistribution, Dose, DropFault, DroppedEvent,
        FaultAction, FaultRule, HangFault, InjectFault, Injected, LatencyFault, Matcher, RateLimitFault,
        ResetFault, SlowCloseFault, StallFault, StatusFault, TrickleFault,
    },
    units::HumanDuration,
    wire::ApiFamily,
};

const ACTIONS: &str = "`status: 429`, `latency: 2s`, `stall: { after_events: 10, for: 30s }`, \
`cut: { after_events: 10 }`, `trickle: 200ms` (or `{ uniform: [50ms, 300ms] }`), `drop: done`, `inject: { kind: error, after_events: 5 }`, \
`hang: forever`, `reset: true`, `rate_limit: { rpm: 600 }`, `bandwidth: 10KB/s`, `slow_close: 5s`";

/// `key_count` is the number of API keys the upstream has, when known.
pub(super) fn build_fault(
    fault: &Spanned<RawFault>,
    family: ApiFamily,
    key_count: Option<usize>,
) -> Checked<FaultRule> {
    let raw = &fault.value;
    let mut actions: Vec<(&str, FaultAction)> = Vec::new();
    if let Some(status) = &raw.status {
        actions.push(("status", status_action(status, raw, family)?));
    }
    if let Some(latency) = &raw.latency {
        actions.push(("latency", FaultAction::Latency(LatencyFault { delay: delay(latency)? })));
    }
    if let Some(stall) = &raw.stall {
        let stall = StallFault { after_events: stall.after_events, duration: stall.duration.map(|d| d.0) };
        actions.push(("stall", FaultAction::Stall(stall)));
    }
    if let Some(cut) = &raw.cut {
        actions.push(("cut", FaultAction::Cut(CutFault { after_events: cut.after_events })));
    }
    if let Some(gap) = &raw.trickle {
        actions.push(("trickle", FaultAction::Trickle(TrickleFault { gap: delay(gap)?, seed: 0 })));
    }
    if let Some(what) = &raw.drop {
        actions.push(("drop", drop_action(what, family)?));
    }
    if let Some(inject) = &raw.inject {
        actions.push(("inject", inject_action(inject, family)?));
    }
    if let Some(hang) = &raw.hang {
        actions.push(("hang", hang_action(hang)?));
    }
    if let Some(limit) = &raw.rate_limit {
        let limits = super::upstream::rate_limits(limit)?;
        actions.push(("rate_limit", FaultAction::RateLimit(RateLimitFault::new(limits, family))));
    }
    if let Some(rate) = raw.bandwidth {
        actions.push(("bandwidth", FaultAction::Bandwidth(BandwidthFault { bytes_per_second: rate.0 })));
    }
    if let Some(hold) = raw.slow_close {
        actions.push(("slow_close", FaultAction::SlowClose(SlowCloseFault { hold: hold.0 })));
    }
    if let Some(reset) = &raw.reset {
        if !reset.value {
            return Err(Located::at(
                &reset.referenced,
                "`reset: false` does nothing; remove it, or write `reset: true`",
            ));
        }
        actions.push(("reset", FaultAction::Reset(ResetFault)));
    }
    let action = match actions.len() {
        0 => {
            return Err(Located::at(
                &fault.referenced,
                format!("this fault has no action; expected one of {ACTIONS}"),
            ))
        }
        1 => actions.remove(0),
        _ => {
            let names: Vec<String> = actions.iter().map(|(name, _)| format!("`{name}`")).collect();
            let message = format!(
                "a fault has one action, this one has {}; write one fault per action to chain them",
                names.join(" and ")
            );
            return Err(Located::at(&fault.referenced, message));
        }
    };
    if action.0 != "status" {
        let status_only = [
            ("retry_after", raw.retry_after.as_ref().map(|r| &r.referenced)),
            ("quota", raw.quota.as_ref().map(|q| &q.referenced)),
            ("should_retry", raw.should_retry.as_ref().map(|s| &s.referenced)),
        ];
        if let Some((name, Some(here))) = status_only.into_iter().find(|(_, here)| here.is_some()) {
            return Err(Located::at(here, format!("`{name}` only goes with a `status` fault")));
        }
    }
    Ok(FaultRule { action: action.1, matcher: matcher(raw, key_count)?, dose: dose(raw)? })
}

fn dose(raw: &RawFault) -> Checked<Dose> {
    if let Some(every) = raw.every.as_ref().filter(|every| every.value == 0) {
        return Err(Located::at(&every.referenced, "`every: 0` never fires; expected 1 or more"));
    }
    Ok(Dose {
        probability: raw.probability.as_ref().map_or(1.0, |p| p.value.0),
        first: raw.first,
        after: raw.after,
        every: raw.every.as_ref().map(|every| every.value),
    })
}

/// The fault's `match:`; `key_count` (when the upstream's keys are known) bounds `key`.
fn matcher(raw: &RawFault, key_count: Option<usize>) -> Checked<Matcher> {
    let Some(raw) = &raw.matcher else { return Ok(Matcher::default()) };
    if let (Some(key), Some(count)) = (&raw.key, key_count) {
        if key.value >= count {
            let message = format!(
                "`key: {}` is out of range; this upstream has {count} key(s), numbered from 0",
                key.value
            );
            return Err(Located::at(&key.referenced, message));
        }
    }
    Ok(Matcher {
        path: raw.path.clone(),
        method: raw.method.clone(),
        model: raw.model.clone(),
        stream: raw.stream,
        headers: raw.header.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect(),
        key: raw.key.as_ref().map(|key| key.value),
    })
}

fn status_action(status: &Spanned<u16>, raw: &RawFault, family: ApiFamily) -> Checked<FaultAction> {
    let supported = supported_statuses(family);
    if !supported.contains(&status.value) {
        let list: Vec<String> = supported.iter().map(u16::to_string).collect();
        let message = format!(
            "unsupported status {} for an {family} upstream; expected one of {}",
            status.value,
            list.join(", ")
        );
        return Err(Located::at(&status.referenced, message));
    }
    let retry_after = raw.retry_after.as_ref().map(|r| r.value.0);
    let quota = match &raw.quota {
        Some(quota) if quota.value && (status.value != 429 || family != ApiFamily::OpenAi) => {
            return Err(Located::at(
                &quota.referenced,
                "`quota: true` goes with `status: 429` on an openai upstream",
            ));
        }
        Some(quota) => quota.value,
        None => false,
    };
    let should_retry = raw.should_retry.as_ref().map(|s| s.value);
    Ok(FaultAction::Status(StatusFault { status: status.value, family, retry_after, quota, should_retry }))
}

fn drop_action(what: &Spanned<String>, family: ApiFamily) -> Checked<FaultAction> {
    let dropped =
        choose("event to drop", what, &[("done", DroppedEvent::Done), ("usage", DroppedEvent::Usage)])?;
    if family != ApiFamily::OpenAi {
        let message =
            format!("`drop: {}` applies to OpenAI streams; an {family} stream has no such event", what.value);
        return Err(Located::at(&what.referenced, message));
    }
    Ok(FaultAction::Drop(DropFault { what: dropped }))
}

fn delay(latency: &Spanned<RawLatency>) -> Checked<DelayDistribution> {
    let here = &latency.referenced;
    let distribution = match &latency.value {
        RawLatency::Fixed(fixed) => return Ok(DelayDistribution::Fixed(fixed.0)),
        RawLatency::Distribution(distribution) => distribution,
    };
    let mut found = Vec::new();
    if let Some([min, max]) = distribution.uniform {
        if min > max {
            return Err(Located::at(
                here,
                format!("`uniform: [{min}, {max}]` has its minimum above its maximum"),
            ));
        }
        found.push(DelayDistribution::Uniform { min: min.0, max: max.0 });
    }
    if let Some(normal) = &distribution.normal {
        found.push(DelayDistribution::Normal { mean: normal.mean.0, stddev: normal.stddev.0 });
    }
    if let Some(pareto) = &distribution.pareto {
        if !(pareto.shape > 0.0 && pareto.shape.is_finite()) {
            return Err(Located::at(here, "a pareto `shape` must be a positive number, like `1.5`"));
        }
        found.push(DelayDistribution::Pareto { scale: pareto.scale.0, shape: pareto.shape });
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Located::at(here, "`latency` needs a duration or one of `uniform`, `normal`, `pareto`")),
        _ => Err(Located::at(here, "`latency` takes one distribution: `uniform`, `normal` or `pareto`")),
    }
}

fn hang_action(hang: &Spanned<String>) -> Checked<FaultAction> {
    let duration = match hang.value.as_str() {
        "forever" => None,
        text => Some(
            text.parse::<HumanDuration>()
                .map_err(|error| Located::at(&hang.referenced, format!("{error}; or `forever`")))?
                .0,
        ),
    };
    Ok(FaultAction::Hang(HangFault { duration }))
}

fn inject_action(inject: &RawInject, family: ApiFamily) -> Checked<FaultAction> {
    let what = choose(
        "event to inject",
        &inject.kind,
        &[("error", Injected::Error), ("malformed", Injected::Malformed)],
    )?;
    Ok(FaultAction::Inject(InjectFault { what, after_events: inject.after_events, family }))
}
