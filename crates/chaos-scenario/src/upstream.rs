//! Raw upstream → checked [`Upstream`]: exactly one of `mock:` or `url:` (a real provider,
//! `remote.rs`); for a mock, its family, keys, latency model, output length, rate limits and
//! overload share.

use serde_saphyr::Spanned;

use super::{
    build::{choose, Checked},
    error::Located,
    mock_answer::{LatencyModel, OutputLength},
    plan::Upstream,
    raw::RawUpstream,
    request_mix::TokenCount,
};
use crate::{
    fault::RawRateLimit,
    most,
    wire::{tokens, ApiFamily},
};

pub(super) fn build_upstream(name: &Spanned<String>, raw: &RawUpstream) -> Checked<Upstream> {
    let (family, remote) = match (&raw.mock, &raw.url) {
        (Some(mock), None) => {
            if let Some(at) = super::remote::url_only(raw) {
                return Err(Located::at(
                    at,
                    "`family`, `key_env` and `allow_remote` go with a `url` upstream",
                ));
            }
            (choose("mock", mock, ApiFamily::NAMES)?, None)
        }
        (None, Some(url)) => {
            let (family, remote) = super::remote::remote_upstream(url, raw)?;
            (family, Some(remote))
        }
        (_, both) => {
            let at = both.as_ref().map_or(&name.referenced, |url| &url.referenced);
            return Err(Located::at(
                at,
                format!(
                    "upstream `{}` needs exactly one of `mock` (a built-in mock, like `mock: openai`) or `url` \
                     (a real provider, like `url: https://api.openai.com`)",
                    name.value
                ),
            ));
        }
    };
    let name = name.value.as_str();
    let key_count = match &raw.keys {
        Some(keys) if keys.value == 0 || keys.value > most::KEYS => {
            return Err(Located::at(&keys.referenced, format!("`keys` must be 1 to {}", most::KEYS)))
        }
        Some(keys) => keys.value,
        None => 1,
    };
    let keys = (0..key_count).map(|i| format!("sk-chaos-{name}-{i}")).collect();
    Ok(Upstream {
        name: name.to_owned(),
        family,
        zone: raw.zone.clone(),
        keys,
        remote,
        latency: latency(raw)?,
        output: output(raw)?,
        limits: raw.rate_limit.as_ref().map(RawRateLimit::check).transpose()?.unwrap_or_default(),
        overload: raw.overloaded.as_ref().map_or(0.0, |p| p.value.0),
        listen: crate::listen::ANY_LOOPBACK_PORT,
    })
}

fn latency(raw: &RawUpstream) -> Checked<LatencyModel> {
    let mut latency = LatencyModel::default();
    let Some(Spanned { value: raw, .. }) = &raw.latency else { return Ok(latency) };
    latency.ttft = raw.ttft.map_or(latency.ttft, |t| t.0);
    latency.jitter = raw.jitter.map_or(0.0, |j| j.0);
    if let Some(speed) = &raw.tokens_per_second {
        if !most::TOKENS_PER_SECOND.contains(&speed.value) {
            return Err(Located::at(
                &speed.referenced,
                "`tokens_per_second` must be a number from 1/3600 (one an hour, 0.000278) to 1000000, like `50`",
            ));
        }
        latency.tokens_per_second = speed.value;
    }
    Ok(latency)
}

fn output(raw: &RawUpstream) -> Checked<OutputLength> {
    let Some(count) = &raw.output_tokens else {
        return Ok(OutputLength::UpToLimit);
    };
    Ok(match super::load::token_count(count, "output_tokens", tokens::MAX_OUTPUT_TOKENS)? {
        TokenCount::Fixed(n) => OutputLength::Fixed(u64::from(n)),
        TokenCount::Uniform { min, max } => {
            OutputLength::Uniform { min: u64::from(min), max: u64::from(max) }
        }
    })
}
