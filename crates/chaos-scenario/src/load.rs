//! Raw load → checked [`LoadPlan`]: the arrival process, one `request` or a weighted `mix`,
//! token counts within the limits, each request's own headers and body (`request_shape`), its
//! model through the target's aliases, and the generator's own bounds.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use serde_saphyr::Spanned;

use super::{
    build::{choose, Checked},
    error::Located,
    plan::{Limits, LoadPlan, Phase},
    raw::{RawLoad, RawPhase, RawRequest, RawTokenCount},
    request_mix::{RequestKind, RequestMix, TokenCount},
    request_shape::{build_shape, Checks, RawShape},
};
use crate::{
    most::IN_FLIGHT as MOST_IN_FLIGHT,
    wire::{tokens, ApiFamily},
};

const DEFAULT_PROMPT_TOKENS: u32 = 100;
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);
const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;
/// Default bound on the generator's p99 start lateness.
const DEFAULT_MAX_LAG: Duration = Duration::from_millis(50);

/// What a request is checked against beyond itself.
pub struct RequestContext<'a> {
    /// Body files are relative to it.
    pub scenario_dir: &'a Path,
    /// The target's model aliases: alias → the model the upstream bills.
    pub aliases: &'a BTreeMap<String, String>,
    /// The upstreams' placeholder names a request's headers and body may use.
    pub upstreams: &'a crate::template::Values,
}

/// The load over the built `phases` (whose raw forms are `raw_phases`).
pub fn build_load(
    raw: &Spanned<RawLoad>,
    raw_phases: &[Spanned<RawPhase>],
    phases: &[Phase],
    context: &RequestContext<'_>,
) -> Checked<LoadPlan> {
    let load = &raw.value;
    let kinds = match (&load.request, &load.mix) {
        (Some(request), None) => vec![request_kind(request, context)?],
        (None, Some(mix)) if !mix.value.is_empty() => {
            mix.value.iter().map(|request| request_kind(request, context)).collect::<Checked<_>>()?
        }
        (None, Some(mix)) => {
            return Err(Located::at(&mix.referenced, "`mix` must list at least one request"))
        }
        _ => {
            return Err(Located::at(
                &raw.referenced,
                "`load` needs exactly one of `request` (one kind of request) or `mix` (a weighted list)",
            ))
        }
    };
    let max_in_flight =
        in_flight_bound(load.max_in_flight.as_ref(), "max_in_flight")?.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
    let connections = in_flight_bound(load.connections.as_ref(), "connections")?;
    Ok(LoadPlan {
        arrivals: super::arrival::build_arrivals(load, raw_phases, phases)?,
        mix: RequestMix::new(kinds),
        drain: load.drain.map_or(DEFAULT_DRAIN, |d| d.0),
        limits: Limits { max_in_flight, connections },
        max_lag: load.max_lag.map_or(DEFAULT_MAX_LAG, |d| d.0),
    })
}

/// A bound on requests in flight: 1 to [`MOST_IN_FLIGHT`].
fn in_flight_bound(raw: Option<&Spanned<u64>>, name: &str) -> Checked<Option<usize>> {
    match raw {
        Some(n) if n.value == 0 || n.value > MOST_IN_FLIGHT => {
            Err(Located::at(&n.referenced, format!("`{name}` must be 1 to {MOST_IN_FLIGHT}")))
        }
        Some(n) => Ok(Some(usize::try_from(n.value).unwrap_or(usize::MAX))),
        None => Ok(None),
    }
}

fn request_kind(raw: &Spanned<RawRequest>, context: &RequestContext<'_>) -> Checked<RequestKind> {
    let request = &raw.value;
    let api = match &request.api {
        Some(api) => choose("api", api, ApiFamily::NAMES)?,
        None => ApiFamily::OpenAi,
    };
    let weight = match &request.weight {
        Some(w) if !(w.value.is_finite() && w.value > 0.0) => {
            return Err(Located::at(&w.referenced, format!("`weight: {}` must be a number above 0", w.value)))
        }
        Some(w) => w.value,
        None => 1.0,
    };
    let max_tokens = request
        .max_tokens
        .as_ref()
        .map(|count| token_count(count, "max_tokens", tokens::MAX_OUTPUT_TOKENS))
        .transpose()?;
    let shape = RawShape {
        headers: &request.headers,
        body: request.body.as_ref(),
        body_file: request.body_file.as_ref(),
    };
    let checks = Checks {
        model: &request.model,
        max_tokens: max_tokens.map(TokenCount::most),
        scenario_dir: context.scenario_dir,
        upstreams: context.upstreams,
    };
    if let (ApiFamily::Gemini | ApiFamily::Bedrock, Some(tools)) = (api, &request.tools) {
        let message = format!(
            "`tools` are sent in OpenAI's, Azure's or Anthropic's format, not yet {}'s: use another `api`",
            if api == ApiFamily::Gemini { "Gemini" } else { "Bedrock" }
        );
        return Err(Located::at(&tools.referenced, message));
    }
    let (endpoint, input_tokens) = super::load_endpoint::endpoint_of(request, api)?;
    let billed = context.aliases.get(&request.model).unwrap_or(&request.model);
    Ok(RequestKind {
        weight,
        api,
        model: Arc::from(request.model.as_str()),
        billed_model: Arc::from(billed.as_str()),
        stream: request.stream.as_ref().is_some_and(|s| s.value),
        endpoint,
        prompt_tokens: match input_tokens {
            Some(tokens) => tokens,
            None => request
                .prompt_tokens
                .as_ref()
                .map(|count| token_count(count, "prompt_tokens", tokens::MAX_PROMPT_TOKENS))
                .transpose()?
                .unwrap_or(TokenCount::Fixed(DEFAULT_PROMPT_TOKENS)),
        },
        max_tokens,
        shape: build_shape(&shape, &checks)?,
        agent: super::agent::build_agent(
            request.tools.as_ref(),
            request.agent_steps.as_ref(),
            request
                .body
                .as_ref()
                .map(|b| &b.referenced)
                .or(request.body_file.as_ref().map(|f| &f.referenced)),
        )?,
    })
}

/// A token count or range, checked against `most`, errors at its location.
pub(super) fn token_count(raw: &Spanned<RawTokenCount>, name: &str, most: u64) -> Checked<TokenCount> {
    let (count, max) = match raw.value {
        RawTokenCount::Fixed(n) => (TokenCount::Fixed(n), n),
        RawTokenCount::Range { min, max } if min > max => {
            return Err(Located::at(&raw.referenced, format!("`{name}` has min {min} above max {max}")))
        }
        RawTokenCount::Range { min, max } => (TokenCount::Uniform { min, max }, max),
    };
    if u64::from(max) > most {
        return Err(Located::at(
            &raw.referenced,
            format!("`{name}: {max}` is too large; the most allowed is {most}"),
        ));
    }
    Ok(count)
}
