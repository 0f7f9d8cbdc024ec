//! A `command` gateway started once for the whole suite (`start: once`, the default): its
//! upstreams get fixed `listen` addresses, so one rendering of its config points at every
//! scenario's interposers; each scenario then reaches it as a running `url` target, presenting
//! the key it was started with. The scenario files on disk keep the `command`, so `chaos run`
//! of one of them still starts the gateway itself.

use std::{net::SocketAddr, path::Path};

use anyhow::Context as _;

use super::target_file::SuiteTarget;
use crate::{
    scenario::{
        key_pool::{fingerprint, KeyPool, PoolKey, SecretKey},
        plan::{Target, UrlTarget},
        Plan,
    },
    target::{self, TargetProcess},
};

/// The gateway process and how a scenario reaches it.
pub struct SharedGateway {
    process: TargetProcess,
    url: String,
    key: String,
}

/// `target` with a free loopback port for every upstream that has no `listen` address.
pub fn with_fixed_listen(target: &SuiteTarget) -> anyhow::Result<SuiteTarget> {
    let mut fixed = target.clone();
    for upstream in fixed.upstreams.iter_mut().filter(|upstream| upstream.listen.is_none()) {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
        upstream.listen = Some(probe.local_addr()?.to_string());
    }
    Ok(fixed)
}

impl SharedGateway {
    /// Starts `plan`'s command target (every scenario of the suite renders it alike) with its
    /// upstreams' fixed addresses, in `folder`, and waits until it is healthy.
    pub async fn start(plan: &Plan, folder: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let addrs: Vec<SocketAddr> = plan.upstreams.iter().map(|upstream| upstream.listen).collect();
        let running = target::start(plan, &addrs, folder).await.context("starting the gateway")?;
        let process = running.process.context("the suite's gateway is a `command`")?;
        let route = running.client.routes.into_iter().next().context("the gateway has a route")?;
        let key = route.api_keys.into_iter().next().unwrap_or_default();
        Ok(SharedGateway { process, url: route.base.to_string(), key })
    }

    /// `plan` reaching this gateway instead of starting its own.
    pub fn serve(&self, plan: &mut Plan) {
        let timeout = match &plan.target {
            Target::Command(command) => command.timeout,
            Target::Url(url) => url.timeout,
            Target::Builtin(builtin) => builtin.timeout,
        };
        let key = PoolKey {
            name: "suite-gateway".to_owned(),
            fingerprint: fingerprint(&self.key),
            secret: SecretKey::new(self.key.clone()),
        };
        let url = self.url.trim_end_matches('/').to_owned();
        plan.target = Target::Url(UrlTarget {
            url,
            api_key_env: None,
            keys: Some(KeyPool { keys: vec![key] }),
            timeout,
        });
    }

    /// Stops the gateway and its children.
    pub async fn stop(self) {
        self.process.stop(target::process::STOP_GRACE).await;
    }
}
