//! One measurement of the load generator against a URL: a one-phase scenario with a `url`
//! target, run by the same runner `chaos run` uses, so the bench measures the generator users
//! get — its pacer, its client, its coordinated-omission-correct latency — and nothing written
//! for the bench alone.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;

use crate::{
    metrics::Percentiles,
    results::Results,
    runner::{self, RunOptions},
    scenario,
};

/// How the probe's logical requests start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arrival {
    /// Open model: a constant rate, per second, with at most `connections` on the wire.
    Open { rate: u32, connections: u32 },
    /// Closed model: `users` each sending the next request when the last one ends — the
    /// saturated throughput.
    Closed { users: u32 },
}

/// What a probe saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Logical requests started.
    pub sent: u64,
    /// Starts the generator skipped because too many were in flight.
    pub missed: u64,
    /// Requests answered with success.
    pub successes: u64,
    /// How long the load ran, seconds.
    pub seconds: f64,
    /// Whether the generator kept to its schedule (the run is invalid otherwise).
    pub kept_up: bool,
    /// From the intended start, milliseconds.
    pub latency_ms: Option<Percentiles>,
    /// From the actual send, milliseconds.
    pub service_time_ms: Option<Percentiles>,
    /// How late starts were behind the schedule, milliseconds.
    pub lag_ms: Option<Percentiles>,
}

impl Probe {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 {
            self.successes as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Whether every request started was answered with success.
    pub fn all_succeeded(&self) -> bool {
        self.sent > 0 && self.successes == self.sent
    }

    fn from_results(results: &Results) -> Probe {
        Probe {
            sent: results.generator.sent,
            missed: results.generator.missed,
            successes: results.overall.successes,
            seconds: results.overall.duration_s,
            kept_up: results.generator.kept_up,
            latency_ms: results.overall.latency_ms,
            service_time_ms: results.overall.service_time_ms,
            lag_ms: results.generator.lag_ms,
        }
    }
}

/// Where probes write their runs' folders (removed when the bench ends).
#[derive(Debug)]
pub struct Scratch {
    root: PathBuf,
}

impl Scratch {
    /// A fresh folder under the system's temporary directory.
    pub fn new() -> anyhow::Result<Scratch> {
        let root = std::env::temp_dir().join(format!("chaos-bench-{}", std::process::id()));
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Scratch { root })
    }

    /// Drives `url` for `duration` with `arrival`; each request asks for one token, not
    /// streamed: the cheapest request, so the figures are the harness's and not generation's.
    pub async fn probe(&self, url: &str, arrival: Arrival, duration: Duration) -> anyhow::Result<Probe> {
        let source = scenario_text(url, arrival, duration);
        let plan = scenario::parse(&source, Path::new("<chaos bench>"))
            .map_err(|error| anyhow::anyhow!("the bench's own scenario is invalid: {error}"))?;
        // The bench drives paths with and without an interposer on purpose: no preflight.
        let options = RunOptions {
            command_line: vec!["chaos".into(), "bench".into()],
            preflight: false,
            ..RunOptions::new(self.root.clone())
        };
        let report = runner::execute(&plan, &options, std::future::pending()).await?;
        Ok(Probe::from_results(&report.results))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The scenario a probe runs: one phase, a `url` target, an idle mock (a scenario needs an
/// upstream; the target does not use it).
fn scenario_text(url: &str, arrival: Arrival, duration: Duration) -> String {
    let load = match arrival {
        Arrival::Open { rate, connections } => {
            format!("  arrival: {{ rate: {rate}/s }}\n  connections: {connections}\n  max_lag: 50ms\n")
        }
        Arrival::Closed { users } => format!("  arrival: {{ users: {users}, think: 0s }}\n"),
    };
    format!(
        "name: bench\n\
         upstreams:\n  idle: {{ mock: openai }}\n\
         target: {{ url: \"{url}\" }}\n\
         load:\n{load}  request: {{ model: gpt-4o-mini, max_tokens: 1 }}\n\
         phases:\n  - {{ name: steady, duration: {}ms }}\n",
        duration.as_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_scenario_is_valid() {
        for arrival in [Arrival::Open { rate: 2000, connections: 50 }, Arrival::Closed { users: 50 }] {
            let text = scenario_text("http://127.0.0.1:9", arrival, Duration::from_millis(2500));
            let plan =
                scenario::parse(&text, Path::new("probe.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(plan.phases.len(), 1);
            assert_eq!(plan.phases[0].duration, Duration::from_millis(2500));
        }
    }
}
