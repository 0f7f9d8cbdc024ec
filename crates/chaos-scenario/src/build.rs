//! Raw scenario → checked [`Plan`]: resolves names, fills defaults and rejects what serde alone
//! cannot (a fault naming an unknown upstream, a phase with no duration, a fault with no
//! action), each error at the location of the offending value.

use std::{collections::HashSet, path::Path, time::Duration};

use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::zone::Darkness;

use super::{
    error::Located,
    expect,
    plan::{ModelPrice, Phase, Plan, Slo, Target, Upstream},
    raw::{RawPhase, RawScenario, RawUpstream},
};
use crate::fault::{FaultContext, FaultRule, RawFault};

pub(super) use crate::located::{choose, one_of, Checked};

const DEFAULT_SEED: u64 = 1;
const DEFAULT_SLO: f64 = 0.999;
const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 86_400);

/// Checks a parsed scenario and builds its plan.
pub fn build(raw: RawScenario, file: &Path, allow_remote: bool) -> Checked<Plan> {
    let name = raw.name.value.trim().to_owned();
    if name.is_empty() {
        return Err(Located::at(&raw.name.referenced, "the scenario `name` must not be empty"));
    }
    let upstream_names: Vec<String> = raw.upstreams.value.keys().map(|k| k.value.clone()).collect();
    if upstream_names.is_empty() {
        return Err(Located::at(
            &raw.upstreams.referenced,
            "`upstreams` must name at least one upstream, e.g. `openai: { mock: openai }`",
        ));
    }
    if upstream_names.len() > crate::most::UPSTREAMS {
        let message = format!(
            "{} upstreams; a scenario may name at most {}",
            upstream_names.len(),
            crate::most::UPSTREAMS
        );
        return Err(Located::at(&raw.upstreams.referenced, message));
    }
    let mut upstreams = Vec::with_capacity(upstream_names.len());
    for (key, upstream) in &raw.upstreams.value {
        upstreams.push(super::upstream::build_upstream(key, upstream)?);
    }
    let seed = raw.seed.unwrap_or(DEFAULT_SEED);
    let (target, allow_remote) =
        super::target::build_target(raw.target.as_ref(), &upstreams, file, allow_remote)?;
    for upstream in raw.upstreams.value.values() {
        super::remote::check_allowed(upstream, allow_remote)?;
    }
    keyed_for_the_builtin_client(&target, &upstreams, &raw)?;
    let written: Vec<_> = raw.upstreams.value.values().map(|upstream| upstream.listen.as_ref()).collect();
    for (upstream, listen) in
        upstreams.iter_mut().zip(super::listen::listen_addresses(&written, allow_remote)?)
    {
        upstream.listen = listen;
    }
    let phases = build_phases(&raw.phases, &upstreams)?;
    let aliases =
        super::alias::build_aliases(raw.target.as_ref().map_or(&IndexMap::new(), |t| &t.value.aliases))?;
    super::alias::check_fault_matches(&aliases, &raw.phases.value)?;
    let upstream_names: Vec<(String, usize)> =
        upstreams.iter().map(|u| (u.name.clone(), u.keys.len())).collect();
    let context = super::load::RequestContext {
        scenario_dir: file.parent().unwrap_or(Path::new(".")),
        aliases: &aliases,
        upstreams: &crate::template::Values::names_for(&upstream_names),
    };
    let load = super::load::build_load(&raw.load, &raw.phases.value, &phases, &context)?;
    let phase_names: Vec<String> = phases.iter().map(|p| p.name.clone()).collect();
    let upstream_names: Vec<String> = upstreams.iter().map(|u| u.name.clone()).collect();
    let expectations = raw
        .expect
        .iter()
        .map(|line| {
            expect::parse_in(&line.value, &phase_names, &upstream_names)
                .map_err(|error| Located::at(&line.referenced, error.message).shifted(error.offset))
        })
        .collect::<Checked<Vec<_>>>()?;
    let halts =
        raw.halt.iter().map(|line| halt_condition(line, &phase_names)).collect::<Checked<Vec<_>>>()?;
    if let Some(availability) = raw.slo.as_ref().map(|slo| &slo.availability).filter(|a| a.value.0 >= 1.0) {
        return Err(Located::at(
            &availability.referenced,
            "an availability objective of 100% leaves no error budget: any failure breaks it and burn \
             rates cannot be computed; use a fraction below it, like `99.99%`",
        ));
    }
    let slo = raw.slo.as_ref().map_or(Slo { availability: DEFAULT_SLO, period: DEFAULT_PERIOD }, |slo| Slo {
        availability: slo.availability.value.0,
        period: slo.period.map_or(DEFAULT_PERIOD, |p| p.0),
    });
    let max_spend = match &raw.max_spend {
        Some(limit) if limit.value.0 <= 0.0 => {
            return Err(Located::at(&limit.referenced, "`max_spend` must be more than $0, like `$5`"))
        }
        limit => limit.as_ref().map(|limit| limit.value.0),
    };
    let prices = raw
        .prices
        .iter()
        .map(|(model, price)| (model.clone(), ModelPrice { input: price.input.0, output: price.output.0 }))
        .collect();
    Ok(Plan {
        name,
        description: raw.description.clone(),
        file: file.to_owned(),
        seed,
        upstreams,
        target,
        load,
        phases,
        slo,
        expectations,
        starts_at: None,
        halts,
        abort_on_fail: raw.abort_on_fail,
        prices,
        max_spend,
        allow_remote,
        speed: crate::speed::Speed::REAL_TIME,
        source: String::new(),
        shard: crate::shard::Shard::WHOLE,
    })
}

/// The built-in client presents the upstreams' made-up keys: a `url` upstream it sends to must
/// put a real key in their place (`key_env`), or every request would be refused.
fn keyed_for_the_builtin_client(target: &Target, upstreams: &[Upstream], raw: &RawScenario) -> Checked<()> {
    let Target::Builtin(builtin) = target else { return Ok(()) };
    for index in &builtin.chain {
        let (upstream, written) = (&upstreams[*index], raw.upstreams.value.get_index(*index));
        let Some((_, RawUpstream { url: Some(url), .. })) = written else { continue };
        if upstream.remote.as_ref().is_some_and(|remote| remote.key_env.is_none()) {
            return Err(Located::at(
                &url.referenced,
                format!(
                    "the built-in client has no key for upstream `{}`: add `key_env: NAME`, the environment \
                     variable holding the provider's key",
                    upstream.name
                ),
            ));
        }
    }
    Ok(())
}

/// A halt condition: an expectation's syntax, over the whole run, on a figure watched live.
fn halt_condition(line: &Spanned<String>, phase_names: &[String]) -> Checked<expect::Expectation> {
    let condition = expect::parse(&line.value, phase_names)
        .map_err(|error| Located::at(&line.referenced, error.message).shifted(error.offset))?;
    if condition.phase.is_some() {
        let at = line.value.find('{').unwrap_or(0);
        return Err(Located::at(
            &line.referenced,
            "a halt condition watches the whole run as it goes; drop the `{phase=…}` label",
        )
        .shifted(at));
    }
    if !condition.metric.watchable_live() {
        return Err(Located::at(
            &line.referenced,
            "this figure is only known at the end of a run; a halt condition can watch availability,              error_rate, burn_rate, retry_amplification, fallback_rate, cost_per_minute, cost_per_request,              and percentiles of latency or ttft",
        ));
    }
    Ok(condition)
}

/// The index of the upstream `given` names, or [`one_of`]'s error.
pub(super) fn upstream_index(given: &Spanned<String>, upstreams: &[Upstream]) -> Checked<usize> {
    one_of("upstream", given, upstreams.iter().map(|u| u.name.as_str()))?;
    Ok(upstreams.iter().position(|u| u.name == given.value).unwrap_or(0))
}

fn build_phases(raw: &Spanned<Vec<Spanned<RawPhase>>>, upstreams: &[Upstream]) -> Checked<Vec<Phase>> {
    if raw.value.is_empty() {
        return Err(Located::at(
            &raw.referenced,
            "`phases` must list at least one phase, e.g. `- { name: baseline, duration: 60s }`",
        ));
    }
    if raw.value.len() > crate::most::PHASES {
        let message =
            format!("{} phases; a scenario may have at most {}", raw.value.len(), crate::most::PHASES);
        return Err(Located::at(&raw.referenced, message));
    }
    let mut seen = HashSet::new();
    let mut start = Duration::ZERO;
    let mut phases = Vec::with_capacity(raw.value.len());
    for (index, phase) in raw.value.iter().enumerate() {
        let here = &phase.referenced;
        let name = phase.value.name.trim().to_owned();
        let at = phase.value.at.as_ref().map(wall_time).transpose()?;
        let next_at = raw.value.get(index + 1).and_then(|next| next.value.at.as_ref());
        if !seen.insert(name.clone()) {
            return Err(Located::at(
                here,
                format!("two phases are named `{name}`; phase names must be unique"),
            ));
        }
        let duration = match phase.value.duration {
            Some(_) if next_at.is_some() => {
                return Err(Located::at(
                    here,
                    format!(
                        "phase `{name}` lasts until the next phase's `at: {}`; drop its `duration`",
                        next_at.map_or("", |at| at.value.as_str())
                    ),
                ))
            }
            // Resolved when the run starts (`Plan::anchored`).
            None if next_at.is_some() => Duration::from_secs(1),
            Some(d) if !d.0.is_zero() => d.0,
            Some(_) => {
                return Err(Located::at(
                    here,
                    format!("phase `{name}` has `duration: 0`; a phase must last some time"),
                ))
            }
            None => {
                return Err(Located::at(
                    here,
                    format!("phase `{name}` has no `duration`; every phase needs one, e.g. `duration: 60s`"),
                ))
            }
        };
        let (faults, dark) = build_faults(&phase.value, upstreams)?;
        phases.push(Phase { name, start, duration, faults, dark, at });
        start += duration;
    }
    if start > crate::units::MAX_DURATION {
        let days = |d: Duration| d.as_secs_f64() / 86_400.0;
        return Err(Located::at(
            &raw.referenced,
            format!(
                "the phases add up to {:.1} days; a plan may last at most {} days",
                days(start),
                days(crate::units::MAX_DURATION)
            ),
        ));
    }
    Ok(phases)
}

/// A phase's `at:` time, or an error at it.
fn wall_time(at: &Spanned<String>) -> Checked<super::wall_clock::WallTime> {
    at.value.parse().map_err(|message: String| Located::at(&at.referenced, message))
}

/// The phase's fault rules per upstream, and which upstreams refuse connections.
fn build_faults(phase: &RawPhase, upstreams: &[Upstream]) -> Checked<(Vec<Vec<FaultRule>>, Vec<bool>)> {
    let mut rules = vec![Vec::new(); upstreams.len()];
    let mut dark = vec![false; upstreams.len()];
    if let Some(loss) = &phase.zone_loss {
        let darkness = super::zone::zone_loss(loss, upstreams)?;
        for (index, upstream) in upstreams.iter().enumerate() {
            if upstream.zone.as_deref() != Some(loss.zone.value.as_str()) {
                continue;
            }
            match &darkness {
                Darkness::Fault(rule) => rules[index].push((**rule).clone()),
                Darkness::Refuse => dark[index] = true,
            }
        }
    }
    for (upstream_name, faults) in &phase.faults {
        let index = upstream_index(upstream_name, upstreams)?;
        for fault in faults {
            let upstream = &upstreams[index];
            rules[index].push(RawFault::build(
                fault,
                &FaultContext { family: upstream.family },
                Some(upstream.keys.len()),
            )?);
        }
    }
    Ok((rules, dark))
}
