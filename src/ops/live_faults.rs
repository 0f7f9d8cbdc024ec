//! Faults added while a run goes on (control API, toxiproxy clients): per upstream, an ordered,
//! named list, applied as the interposer's [`LiveLayer`] over the phase's chain. They survive
//! phase switches (the layer is not part of the timeline) and go when removed, or all at once
//! when the run stops or halts. Each change rebuilds the layer's chain, so counting rules
//! (`first`, `every`) count from the change; its draws stay seeded by the scenario's seed.

use std::sync::Mutex;

use crate::{
    fault::{Chain, FaultRule},
    proxy::LiveLayer,
    wire::ApiFamily,
};

/// One live fault.
#[derive(Debug, Clone)]
pub struct LiveFault {
    /// Its name on the API: given by the client, or `fault-N`.
    pub id: String,
    /// Its action's label (`status_503`, `latency`, …).
    pub label: String,
    /// How the client described it, shown back when listing.
    pub shown: serde_json::Value,
    /// Whether it came through the toxiproxy-compatible endpoints.
    pub toxic: bool,
    rule: FaultRule,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("no upstream named `{0}`")]
    NoSuchUpstream(String),
    #[error("no live fault named `{0}` on this upstream")]
    NoSuchFault(String),
    #[error("a live fault named `{0}` already exists on this upstream")]
    Exists(String),
    #[error("{0}")]
    Closed(&'static str),
}

#[derive(Debug)]
struct UpstreamFaults {
    name: String,
    family: ApiFamily,
    layer: LiveLayer,
    seed: u64,
    faults: Vec<LiveFault>,
}

#[derive(Debug)]
struct Inner {
    upstreams: Vec<UpstreamFaults>,
    next_id: u64,
    closed: Option<&'static str>,
}

/// Every upstream's live faults.
#[derive(Debug)]
pub struct LiveFaults {
    inner: Mutex<Inner>,
}

impl LiveFaults {
    /// Upstreams in the plan's order: name, family, the interposer's layer. `dry_run` refuses
    /// every fault.
    pub fn new(upstreams: Vec<(String, ApiFamily, LiveLayer)>, seed: u64, dry_run: bool) -> Self {
        let upstreams = upstreams
            .into_iter()
            .enumerate()
            .map(|(index, (name, family, layer))| UpstreamFaults {
                name,
                family,
                layer,
                seed: seed ^ (index as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F),
                faults: Vec::new(),
            })
            .collect();
        let closed = dry_run.then_some("a dry run: no fault fires");
        LiveFaults { inner: Mutex::new(Inner { upstreams, next_id: 1, closed }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The upstreams' names and families, in the plan's order.
    pub fn upstreams(&self) -> Vec<(String, ApiFamily)> {
        self.lock().upstreams.iter().map(|u| (u.name.clone(), u.family)).collect()
    }

    /// The family of upstream `name`, for parsing a fault meant for it.
    pub fn family(&self, name: &str) -> Result<ApiFamily, LiveError> {
        let inner = self.lock();
        inner.upstreams.iter().find(|u| u.name == name).map(|u| u.family).ok_or_else(|| no_upstream(name))
    }

    /// The live faults of upstream `name`, in the order they apply.
    pub fn list(&self, name: &str) -> Result<Vec<LiveFault>, LiveError> {
        let inner = self.lock();
        let upstream = inner.upstreams.iter().find(|u| u.name == name).ok_or_else(|| no_upstream(name))?;
        Ok(upstream.faults.clone())
    }

    /// Adds a fault after the others on upstream `name`; returns it as stored.
    pub fn add(
        &self,
        name: &str,
        id: Option<String>,
        rule: FaultRule,
        shown: serde_json::Value,
        toxic: bool,
    ) -> Result<LiveFault, LiveError> {
        let mut inner = self.lock();
        if let Some(reason) = inner.closed {
            return Err(LiveError::Closed(reason));
        }
        let next = inner.next_id;
        let upstream =
            inner.upstreams.iter_mut().find(|u| u.name == name).ok_or_else(|| no_upstream(name))?;
        let id = id.unwrap_or_else(|| format!("fault-{next}"));
        if upstream.faults.iter().any(|fault| fault.id == id) {
            return Err(LiveError::Exists(id));
        }
        let fault = LiveFault { id, label: rule.action.label(), shown, toxic, rule };
        upstream.faults.push(fault.clone());
        apply(upstream);
        inner.next_id += 1;
        Ok(fault)
    }

    /// Removes fault `id` from upstream `name`.
    pub fn remove(&self, name: &str, id: &str) -> Result<LiveFault, LiveError> {
        let mut inner = self.lock();
        let upstream =
            inner.upstreams.iter_mut().find(|u| u.name == name).ok_or_else(|| no_upstream(name))?;
        let index = upstream
            .faults
            .iter()
            .position(|f| f.id == id)
            .ok_or_else(|| LiveError::NoSuchFault(id.to_owned()))?;
        let fault = upstream.faults.remove(index);
        apply(upstream);
        Ok(fault)
    }

    /// Removes every live fault and refuses new ones (the run stopped or halted).
    pub fn close(&self, reason: &'static str) {
        let mut inner = self.lock();
        inner.closed = Some(reason);
        for upstream in &mut inner.upstreams {
            upstream.faults.clear();
            apply(upstream);
        }
    }
}

fn no_upstream(name: &str) -> LiveError {
    LiveError::NoSuchUpstream(name.to_owned())
}

fn apply(upstream: &UpstreamFaults) {
    let rules = upstream.faults.iter().map(|fault| fault.rule.clone()).collect();
    upstream.layer.set(Chain::new(rules, upstream.seed));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> LiveFaults {
        LiveFaults::new(vec![("openai".into(), ApiFamily::OpenAi, LiveLayer::default())], 7, false)
    }

    fn rule() -> FaultRule {
        crate::scenario::parse_fault("{ status: 503 }", ApiFamily::OpenAi).expect("a fault")
    }

    #[test]
    fn faults_are_named_listed_removed_and_closed() {
        let live = faults();
        let first = live.add("openai", None, rule(), serde_json::Value::Null, false).unwrap();
        assert_eq!((first.id.as_str(), first.label.as_str()), ("fault-1", "status:503"));
        live.add("openai", Some("mine".into()), rule(), serde_json::Value::Null, true).unwrap();
        assert_eq!(
            live.add("openai", Some("mine".into()), rule(), serde_json::Value::Null, true).unwrap_err(),
            LiveError::Exists("mine".into())
        );
        assert!(matches!(
            live.add("nope", None, rule(), serde_json::Value::Null, false),
            Err(LiveError::NoSuchUpstream(_))
        ));
        assert_eq!(live.list("openai").unwrap().len(), 2);
        live.remove("openai", "fault-1").unwrap();
        assert_eq!(live.remove("openai", "fault-1").unwrap_err(), LiveError::NoSuchFault("fault-1".into()));
        live.close("stopped");
        assert!(live.list("openai").unwrap().is_empty());
        assert_eq!(
            live.add("openai", None, rule(), serde_json::Value::Null, false).unwrap_err(),
            LiveError::Closed("stopped")
        );
    }

    #[test]
    fn a_dry_run_takes_no_fault() {
        let live = LiveFaults::new(vec![("openai".into(), ApiFamily::OpenAi, LiveLayer::default())], 7, true);
        assert!(matches!(
            live.add("openai", None, rule(), serde_json::Value::Null, false),
            Err(LiveError::Closed(_))
        ));
    }
}
