//! The system under test, as the load generator reaches it ([`Target`] in the plan):
//! - `builtin`: the harness's client emulation sends straight to the interposers, retrying and
//!   falling back itself;
//! - `url`: a gateway that is already running;
//! - `command`: a gateway the harness starts ([`process`]) with the interposers' addresses
//!   filled into its command line, environment and files ([`crate::scenario::template`]), and stops.
//!
//! Whatever the kind, the load never sends beyond loopback unless the user allowed it.

pub mod preflight;
pub mod process;

use std::{net::SocketAddr, path::Path};

use anyhow::Context;

pub use process::TargetProcess;

use crate::{
    load::{ClientConfig, Route},
    scenario::{
        key_pool::KeyPool,
        plan::{CommandTarget, KeyUse, Target},
        retry::RetryPolicy,
        Plan,
    },
};

/// The key the load presents to a gateway when the scenario names none (gateways that check
/// keys need `api_key_env`).
const PLACEHOLDER_KEY: &str = "sk-chaos-load";

/// A target ready for load: how to reach it, and the process to stop if the harness started one.
#[derive(Debug)]
pub struct RunningTarget {
    pub client: ClientConfig,
    pub process: Option<TargetProcess>,
}

/// Readies the plan's target; `interposers` are the interposers' addresses in upstream order
/// and `folder` is the run's folder (for `{{dir}}`, rendered files and the target's log).
pub async fn start(plan: &Plan, interposers: &[SocketAddr], folder: &Path) -> anyhow::Result<RunningTarget> {
    let allow_remote = plan.allow_remote;
    let config = |routes, retries, policy, timeout| ClientConfig {
        routes,
        retries,
        policy,
        timeout,
        seed: plan.seed,
        speed: plan.speed,
    };
    match &plan.target {
        Target::Builtin(builtin) => {
            let routes = builtin
                .chain
                .iter()
                .map(|&index| Route {
                    base: format!("http://{}", interposers[index])
                        .parse()
                        .expect("a socket address makes a valid URL"),
                    family: Some(plan.upstreams[index].family),
                    api_keys: match builtin.keys {
                        KeyUse::Pool => plan.upstreams[index].keys.clone(),
                        KeyUse::One => plan.upstreams[index].keys[..1].to_vec(),
                    },
                    upstream: Some(index),
                    pooled: false,
                    model: builtin.models.get(&index).map(|model| std::sync::Arc::from(model.as_str())),
                })
                .collect();
            Ok(RunningTarget {
                client: config(routes, builtin.retries, builtin.policy, builtin.timeout),
                process: None,
            })
        }
        Target::Url(url) => {
            let route =
                gateway_route(&url.url, url.api_key_env.as_deref(), url.keys.as_ref(), allow_remote).await?;
            // The target is the one retrying; a second layer of retries would hide its failures.
            Ok(RunningTarget {
                client: config(vec![route], 0, RetryPolicy::Naive, url.timeout),
                process: None,
            })
        }
        Target::Command(command) => {
            let (route, process) = start_command(plan, command, interposers, folder, allow_remote).await?;
            Ok(RunningTarget {
                client: config(vec![route], 0, RetryPolicy::Naive, command.timeout),
                process: Some(process),
            })
        }
    }
}

async fn start_command(
    plan: &Plan,
    target: &CommandTarget,
    interposers: &[SocketAddr],
    folder: &Path,
    allow_remote: bool,
) -> anyhow::Result<(Route, TargetProcess)> {
    let mut values = plan.upstream_values(interposers);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    values.set("port", port.to_string());
    values.set("dir", folder.display().to_string());
    let target_key = format!("sk-chaos-target-{:032x}", rand::random::<u128>());
    values.set("key", target_key.as_str());
    let render = |what: &str, text: &str| {
        values.render(text).map_err(|e| {
            let before = &text[..e.offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            anyhow::anyhow!("{what}:{line}:{column}: {}", e.message)
        })
    };
    for (name, template) in &target.files {
        let text =
            std::fs::read_to_string(template).with_context(|| format!("reading {}", template.display()))?;
        let rendered = render(&template.display().to_string(), &text)?;
        std::fs::write(folder.join(name), rendered)
            .with_context(|| format!("writing {name} into the run folder"))?;
    }
    let command = render("target.command", &target.command)?;
    let env = target
        .env
        .iter()
        .map(|(name, value)| Ok((name.clone(), render(&format!("target.env.{name}"), value)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let base_url = render("target.base_url", &target.base_url)?;
    let mut route =
        gateway_route(&base_url, target.api_key_env.as_deref(), target.keys.as_ref(), allow_remote).await?;
    if target.api_key_env.is_none() && target.keys.is_none() {
        route.api_keys = vec![target_key];
    }
    let cwd = plan.file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut process = TargetProcess::spawn(&command, &env, cwd, &folder.join("target.log"))?;
    tracing::info!(pid = process.pid(), "target started");
    let health = match &target.health {
        Some(health) => render("target.health", health)?,
        None => base_url,
    };
    let health: http::Uri = health.parse().with_context(|| format!("the health URL `{health}`"))?;
    // The process is dropped (and its group killed) if it never becomes healthy.
    process.wait_healthy(&health, target.startup_timeout).await?;
    Ok((route, process))
}

/// The one route to a gateway at `base`, after the loopback rule, presenting the key pool's
/// keys in turn, or the one key.
async fn gateway_route(
    base: &str,
    api_key_env: Option<&str>,
    pool: Option<&KeyPool>,
    allow_remote: bool,
) -> anyhow::Result<Route> {
    let uri: http::Uri = base.parse().with_context(|| format!("the target URL `{base}`"))?;
    let host = uri.host().context("the target URL has no host")?.trim_matches(['[', ']']);
    let port = uri.port_u16().unwrap_or(80);
    if !allow_remote {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .with_context(|| format!("resolving the target host `{host}`"))?
            .collect();
        if let Some(remote) = addrs.iter().find(|a| !crate::loopback::is_loopback(a)) {
            anyhow::bail!(
                "the target `{base}` resolves to {remote}, beyond loopback; allow it with `allow_remote: true` or --allow-remote"
            );
        }
    }
    if let Some(pool) = pool {
        let api_keys = pool.keys.iter().map(|key| key.secret.expose().to_owned()).collect();
        return Ok(Route { base: uri, family: None, api_keys, upstream: None, pooled: true, model: None });
    }
    let api_key = match api_key_env {
        Some(name) => {
            std::env::var(name).with_context(|| format!("the target's key variable `{name}` is not set"))?
        }
        None => PLACEHOLDER_KEY.to_owned(),
    };
    Ok(Route { base: uri, family: None, api_keys: vec![api_key], upstream: None, pooled: false, model: None })
}
