//! The interposers' listeners, bound first, before anything of the run exists: an address in
//! use is the user's to fix (exit 2, naming the upstream), not a harness failure. And the lines a
//! user pastes into a gateway to point it at them.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::{
    scenario::{plan::Upstream, Plan},
    wire::ApiFamily,
};

/// An interposer's address that could not be bound.
#[derive(Debug)]
pub struct ListenError {
    pub upstream: String,
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hint = match self.source.kind() {
            std::io::ErrorKind::AddrInUse => {
                "; another process holds it: stop it, or give this upstream another `listen:` (or \
                 `--listen NAME=ADDR`)"
            }
            _ => "",
        };
        write!(
            f,
            "cannot listen on {} for upstream `{}`: {}{hint}; nothing was started",
            self.addr, self.upstream, self.source
        )
    }
}

impl std::error::Error for ListenError {}

/// One listener per upstream at its `listen` address, in the scenario's order.
pub(super) async fn bind_interposers(plan: &Plan) -> Result<Vec<TcpListener>, ListenError> {
    let mut listeners = Vec::with_capacity(plan.upstreams.len());
    for upstream in &plan.upstreams {
        let bound = TcpListener::bind(upstream.listen).await;
        let listener = bound.map_err(|source| ListenError {
            upstream: upstream.name.clone(),
            addr: upstream.listen,
            source,
        })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// What to tell a user who points a gateway at the interposers: for each upstream its URL, and
/// the lines to paste into common gateways (a LiteLLM `api_base`, the SDKs' base-URL variables).
pub fn gateway_lines(upstreams: &[Upstream], addrs: &[SocketAddr]) -> Vec<String> {
    let mut lines = Vec::new();
    for (upstream, addr) in upstreams.iter().zip(addrs) {
        let base = format!("http://{addr}");
        lines.push(format!("interposer for upstream `{}` ({}): {base}", upstream.name, upstream.family));
        let (variable, api_base) = match upstream.family {
            ApiFamily::OpenAi => ("OPENAI_BASE_URL", format!("{base}/v1")),
            ApiFamily::Anthropic => ("ANTHROPIC_BASE_URL", base.clone()),
            // botocore's per-service endpoint variable (`endpoint_url` in code).
            ApiFamily::Bedrock => ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", base.clone()),
            // The `AzureOpenAI` client's endpoint: it adds `/openai/deployments/…` itself.
            ApiFamily::Azure => ("AZURE_OPENAI_ENDPOINT", base.clone()),
            // google-genai's base URL: it adds `/v1beta/models/…` itself.
            ApiFamily::Gemini => ("GOOGLE_GEMINI_BASE_URL", base.clone()),
        };
        lines.push(format!("  {variable}={api_base}"));
        lines.push(format!("  LiteLLM model_list litellm_params: api_base: {api_base}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_in_use_names_the_upstream_and_what_to_do() {
        let holder = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let taken = holder.local_addr().unwrap();
        let phases = "  - { name: only, duration: 1s }";
        let mut plan = crate::test_support::plan(phases, "");
        plan.upstreams[0].listen = taken;
        let error = bind_interposers(&plan).await.expect_err("the port is held");
        assert_eq!((error.upstream.as_str(), error.addr), ("openai", taken));
        let shown = error.to_string();
        assert!(shown.contains("upstream `openai`") && shown.contains("--listen NAME=ADDR"), "{shown}");
    }

    #[test]
    fn each_family_gets_its_base_url_variable_and_a_litellm_api_base() {
        let mut plan = crate::test_support::plan("  - { name: only, duration: 1s }", "");
        let mut anthropic = plan.upstreams[0].clone();
        anthropic.name = "claude".into();
        anthropic.family = ApiFamily::Anthropic;
        plan.upstreams.push(anthropic);
        let addrs: Vec<SocketAddr> =
            vec!["127.0.0.1:9101".parse().unwrap(), "127.0.0.1:9102".parse().unwrap()];
        let lines = gateway_lines(&plan.upstreams, &addrs);
        assert!(lines.contains(&"  OPENAI_BASE_URL=http://127.0.0.1:9101/v1".to_owned()), "{lines:?}");
        assert!(lines.contains(&"  ANTHROPIC_BASE_URL=http://127.0.0.1:9102".to_owned()), "{lines:?}");
        assert!(lines.iter().any(|l| l.ends_with("api_base: http://127.0.0.1:9101/v1")), "{lines:?}");
    }
}
