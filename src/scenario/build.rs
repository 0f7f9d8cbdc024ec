//! Raw scenario → checked [`Plan`]: resolves names, fills defaults and rejects what serde alone
//! cannot (a fault naming an unknown upstream, a phase with no duration, a fault with no
//! action), each error at the location of the offending value.

use std::{collections::HashSet, path::Path, time::Duration};

use serde_saphyr::Spanned;

use super::zone::Darkness;

use super::{
    error::{closest, Located},
    expect,
    plan::{BuiltinTarget, LoadPlan, ModelPrice, Phase, Plan, Slo, Upstream},
    raw::{RawLoad, RawPhase, RawScenario, RawTarget},
};
use crate::{
    fault::FaultRule,
    load::{retry::SdkProfile, Process},
    wire::{tokens, ApiFamily},
};

pub(super) type Checked<T> = Result<T, Located>;

const PROCESSES: &[&str] = &["constant", "poisson"];
const DEFAULT_SEED: u64 = 1;
const DEFAULT_RETRIES: u32 = 2;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
const DEFAULT_PROMPT_TOKENS: u32 = 100;
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
const DEFAULT_SLO: f64 = 0.999;
const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 86_400);

/// Checks a parsed scenario and builds its plan.
pub fn build(raw: RawScenario, file: &Path) -> Checked<Plan> {
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
    let mut upstreams = Vec::with_capacity(upstream_names.len());
    for (key, upstream) in &raw.upstreams.value {
        upstreams.push(super::upstream::build_upstream(&key.value, upstream)?);
    }
    let seed = raw.seed.unwrap_or(DEFAULT_SEED);
    let client = build_target(raw.target.as_ref(), &upstream_names)?;
    let target = &upstreams[client.upstream_index];
    if target.family != ApiFamily::OpenAi {
        let here = raw.target.as_ref().map_or(&raw.upstreams.referenced, |t| &t.referenced);
        return Err(Located::at(
            here,
            format!("the built-in client speaks the OpenAI API, but upstream `{}` is an {} mock; point `target.builtin.upstream` at an openai upstream", target.name, target.family),
        ));
    }
    let load = build_load(&raw.load)?;
    let phases = build_phases(&raw.phases, &upstreams)?;
    let phase_names: Vec<String> = phases.iter().map(|p| p.name.clone()).collect();
    let expectations = raw
        .expect
        .iter()
        .map(|line| {
            expect::parse(&line.value, &phase_names)
                .map_err(|error| Located::at(&line.referenced, error.message).shifted(error.offset))
        })
        .collect::<Checked<Vec<_>>>()?;
    let slo = raw.slo.as_ref().map_or(Slo { availability: DEFAULT_SLO, period: DEFAULT_PERIOD }, |slo| Slo {
        availability: slo.availability.0,
        period: slo.period.map_or(DEFAULT_PERIOD, |p| p.0),
    });
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
        client,
        load,
        phases,
        slo,
        expectations,
        prices,
    })
}

/// Rejects a name not in `known`, suggesting the closest one.
pub(super) fn one_of<'a>(
    what: &str,
    given: &Spanned<String>,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Checked<()> {
    if known.clone().into_iter().any(|k| k == given.value) {
        return Ok(());
    }
    let list: Vec<&str> = known.clone().into_iter().collect();
    let hint =
        closest(&given.value, known).map(|best| format!("did you mean `{best}`? ")).unwrap_or_default();
    Err(Located::at(
        &given.referenced,
        format!("unknown {what} `{}`; {hint}expected one of: {}", given.value, list.join(", ")),
    ))
}

fn build_target(raw: Option<&Spanned<RawTarget>>, upstreams: &[String]) -> Checked<BuiltinTarget> {
    let Some(target) = raw else {
        return Ok(BuiltinTarget {
            retries: DEFAULT_RETRIES,
            profile: SdkProfile::OpenAiPython,
            timeout: DEFAULT_TIMEOUT,
            upstream_index: 0,
        });
    };
    let builtin = &target.value.builtin;
    let profile = match &builtin.backoff {
        Some(backoff) => {
            one_of("backoff", backoff, SdkProfile::NAMES.iter().copied())?;
            SdkProfile::from_name(&backoff.value).unwrap_or(SdkProfile::OpenAiPython)
        }
        None => SdkProfile::OpenAiPython,
    };
    let retries = match &builtin.retries {
        Some(r) if r.value > 10 => {
            return Err(Located::at(
                &r.referenced,
                format!("`retries: {}` is too many; expected 0 to 10", r.value),
            ))
        }
        Some(r) => r.value,
        None => DEFAULT_RETRIES,
    };
    let upstream_index = match &builtin.upstream {
        Some(name) => {
            one_of("upstream", name, upstreams.iter().map(String::as_str))?;
            upstreams.iter().position(|u| *u == name.value).unwrap_or(0)
        }
        None => 0,
    };
    let timeout = builtin.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0);
    Ok(BuiltinTarget { retries, profile, timeout, upstream_index })
}

fn build_load(raw: &RawLoad) -> Checked<LoadPlan> {
    let process = match &raw.arrival.process {
        Some(process) => {
            one_of("arrival process", process, PROCESSES.iter().copied())?;
            if process.value == "poisson" {
                Process::Poisson
            } else {
                Process::Constant
            }
        }
        None => Process::Constant,
    };
    let request = &raw.request;
    if let Some(api) = &request.api {
        one_of("api", api, ["openai"])?;
    }
    Ok(LoadPlan {
        process,
        rate: raw.arrival.rate.0,
        model: request.model.clone(),
        prompt_tokens: at_most(request.prompt_tokens.as_ref(), tokens::MAX_PROMPT_TOKENS, "prompt_tokens")?
            .unwrap_or(DEFAULT_PROMPT_TOKENS),
        max_tokens: at_most(request.max_tokens.as_ref(), tokens::MAX_OUTPUT_TOKENS, "max_tokens")?,
        stream: request.stream.as_ref().is_some_and(|s| s.value),
        drain: raw.drain.map_or(DEFAULT_DRAIN, |d| d.0),
    })
}

fn build_phases(raw: &Spanned<Vec<Spanned<RawPhase>>>, upstreams: &[Upstream]) -> Checked<Vec<Phase>> {
    if raw.value.is_empty() {
        return Err(Located::at(
            &raw.referenced,
            "`phases` must list at least one phase, e.g. `- { name: baseline, duration: 60s }`",
        ));
    }
    let mut seen = HashSet::new();
    let mut start = Duration::ZERO;
    let mut phases = Vec::with_capacity(raw.value.len());
    for phase in &raw.value {
        let here = &phase.referenced;
        let name = phase.value.name.trim().to_owned();
        if !seen.insert(name.clone()) {
            return Err(Located::at(
                here,
                format!("two phases are named `{name}`; phase names must be unique"),
            ));
        }
        let duration = match phase.value.duration {
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
        phases.push(Phase { name, start, duration, faults, dark });
        start += duration;
    }
    Ok(phases)
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
        one_of("upstream", upstream_name, upstreams.iter().map(|u| u.name.as_str()))?;
        let index = upstreams.iter().position(|u| u.name == upstream_name.value).unwrap_or(0);
        for fault in faults {
            let upstream = &upstreams[index];
            rules[index].push(super::fault::build_fault(fault, upstream.family, Some(upstream.keys.len()))?);
        }
    }
    Ok((rules, dark))
}

/// A token count, refused above `max` at its location.
pub(super) fn at_most(value: Option<&Spanned<u32>>, max: u64, name: &str) -> Checked<Option<u32>> {
    match value {
        Some(v) if u64::from(v.value) > max => Err(Located::at(
            &v.referenced,
            format!("`{name}: {}` is too large; the most allowed is {max}", v.value),
        )),
        other => Ok(other.map(|v| v.value)),
    }
}
