//! What each interposer forwards to: a mock provider started for the run, or a `url` upstream's
//! real provider; and the key it presents there (`key_env`), read from the environment before
//! anything of the run exists, so a missing variable is the user's to fix (exit 2, nothing
//! started) and the key itself is never printed.

use anyhow::Context;

use crate::{
    mock::{MockBuilder, MockHandle},
    proxy::credential::UpstreamKey,
    scenario::{plan::Upstream, Plan},
};

/// A `key_env` that cannot give a key.
#[derive(Debug)]
pub struct UpstreamKeyError {
    pub upstream: String,
    pub variable: String,
    /// Why, never quoting the value.
    pub why: String,
}

impl std::fmt::Display for UpstreamKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "upstream `{}`: `key_env: {}`: {}; nothing was started",
            self.upstream, self.variable, self.why
        )
    }
}

impl std::error::Error for UpstreamKeyError {}

/// The key each upstream's interposer presents in place of the target's, in the scenario's
/// order: `None` for a mock, or a `url` upstream whose target's key passes through.
pub(super) fn upstream_keys(plan: &Plan) -> Result<Vec<Option<UpstreamKey>>, UpstreamKeyError> {
    let key_of = |upstream: &Upstream| {
        let Some(variable) = upstream.remote.as_ref().and_then(|remote| remote.key_env.as_ref()) else {
            return Ok(None);
        };
        let refused = |why: &str| UpstreamKeyError {
            upstream: upstream.name.clone(),
            variable: variable.clone(),
            why: why.to_owned(),
        };
        let value = std::env::var(variable).map_err(|error| match error {
            std::env::VarError::NotPresent => refused("the environment variable is not set"),
            std::env::VarError::NotUnicode(_) => refused("the environment variable is not UTF-8"),
        })?;
        UpstreamKey::new(upstream.family, &value)
            .map(Some)
            .map_err(|why| refused(&format!("its value: {why}")))
    };
    plan.upstreams.iter().map(key_of).collect()
}

/// A mock provider for each upstream that is one (`None` for a `url` upstream), in the
/// scenario's order.
pub(super) async fn start_mocks(
    plan: &Plan,
    connections: crate::net::ConnectionLimits,
) -> anyhow::Result<Vec<Option<MockHandle>>> {
    let mut mocks = Vec::with_capacity(plan.upstreams.len());
    for (index, upstream) in plan.upstreams.iter().enumerate() {
        let mock = match upstream.remote {
            Some(_) => None,
            None => Some(
                start_mock(plan, index, upstream, connections).await.context("starting a mock provider")?,
            ),
        };
        mocks.push(mock);
    }
    Ok(mocks)
}

/// Where an upstream's interposer forwards: its mock, or its provider's origin.
pub(super) fn upstream_uri(upstream: &Upstream, mock: Option<&MockHandle>) -> anyhow::Result<http::Uri> {
    let uri = match (&upstream.remote, mock) {
        (Some(remote), _) => remote.url.clone(),
        (None, Some(mock)) => format!("http://{}", mock.addr),
        (None, None) => anyhow::bail!("upstream `{}` has neither a mock nor a URL", upstream.name),
    };
    uri.parse().with_context(|| format!("upstream `{}`'s URL", upstream.name))
}

async fn start_mock(
    plan: &Plan,
    index: usize,
    upstream: &Upstream,
    connections: crate::net::ConnectionLimits,
) -> std::io::Result<MockHandle> {
    MockBuilder::new(upstream.family)
        .keys(upstream.keys.clone())
        .models(
            plan.load
                .mix
                .kinds()
                .iter()
                .map(|kind| kind.billed_model.to_string())
                .collect::<indexmap::IndexSet<_>>()
                .into_iter()
                .collect(),
        )
        .latency(upstream.latency)
        .output(upstream.output)
        .limits(upstream.limits)
        .overload(upstream.overload)
        .seed(plan.shard.seed(plan.seed).wrapping_add(index as u64))
        .connection_limits(connections)
        .spawn()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with_key_env(variable: &str) -> Plan {
        let yaml = format!(
            "name: t\nupstreams:\n  real: {{ url: \"https://localhost:9\", family: anthropic, key_env: {variable} }}\n\
             load: {{ arrival: {{ rate: 1/s }}, request: {{ model: m }} }}\nphases: [{{ name: p, duration: 1s }}]\n"
        );
        crate::scenario::parse(&yaml, std::path::Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_missing_key_variable_names_the_upstream_and_the_variable() {
        let error = upstream_keys(&plan_with_key_env("CHAOS_TEST_SURELY_UNSET_KEY")).expect_err("unset");
        assert_eq!(
            error.to_string(),
            "upstream `real`: `key_env: CHAOS_TEST_SURELY_UNSET_KEY`: the environment variable is not set; \
             nothing was started"
        );
    }

    #[test]
    fn a_set_key_variable_gives_the_family_s_key_and_a_mock_none() {
        // `PATH` is set in every test environment; its value stands in for a key here.
        let keys = upstream_keys(&plan_with_key_env("PATH")).expect("set");
        let printed = format!("{:?}", keys[0].as_ref().expect("a key"));
        assert_eq!(printed, "UpstreamKey(x-api-key: <redacted>)");
        let mock = crate::scenario::parse(
            "name: t\nupstreams: { m: { mock: openai } }\nload: { arrival: { rate: 1/s }, request: { model: m } }\n\
             phases: [{ name: p, duration: 1s }]\n",
            std::path::Path::new("t.yaml"),
        )
        .expect("a plan");
        assert!(upstream_keys(&mock).expect("no key needed")[0].is_none());
    }
}
