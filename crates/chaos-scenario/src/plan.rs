//! The validated plan a run executes: every name resolved to an index, every unit converted,
//! every default filled. Built only by `build`, so holding a `Plan` means it was checked.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use super::{
    expect::Expectation,
    key_pool::KeyPool,
    mock_answer::{LatencyModel, OutputLength},
    rate_profile::{Burst, Process, Segment},
    request_mix::RequestMix,
    retry::RetryPolicy,
};
use crate::{fault::FaultRule, ratelimit::RateLimits, wire::ApiFamily};

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    pub seed: u64,
    pub upstreams: Vec<Upstream>,
    pub target: Target,
    pub load: LoadPlan,
    pub phases: Vec<Phase>,
    pub slo: Slo,
    pub expectations: Vec<Expectation>,
    /// When the first phase starts, if it waits for a wall-clock `at` ([`Plan::anchored`]).
    pub starts_at: Option<time::OffsetDateTime>,
    /// Halt conditions, each true when the run must stop (`analysis::live` says over which
    /// windows they are watched).
    pub halts: Vec<Expectation>,
    /// Stop the run as soon as an expectation on a phase has failed, once every request of that
    /// phase has ended (`abort_on_fail: true`).
    pub abort_on_fail: bool,
    pub prices: BTreeMap<String, ModelPrice>,
    /// The spend guard: halt once the metered cost reaches this many US dollars (`max_spend`).
    pub max_spend: Option<f64>,
    /// A target beyond loopback is allowed (`target.allow_remote`, or `--allow-remote`).
    pub allow_remote: bool,
    /// The time scale the plan plays at; every duration above is already divided by it
    /// ([`Plan::at_speed`]).
    pub speed: crate::speed::Speed,
    /// The scenario's text, as read: kept in `results.json` so that a run can be reproduced and
    /// runs can be merged.
    pub source: String,
    /// The part of the load this run plays (`--shard K/N`; [`Shard::WHOLE`] by default),
    /// already applied to `load` ([`Plan::sharded`]).
    pub shard: super::shard::Shard,
}

/// A provider endpoint: served by a built-in mock, or a real provider at a base URL.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub family: ApiFamily,
    pub zone: Option<String>,
    /// Keys the mock accepts; the harness makes them up, they are never real. A `url` upstream
    /// has one, the placeholder its `key_env` replaces on the way ([`RemoteUpstream`]).
    pub keys: Vec<String>,
    /// A real provider (`url:`) rather than a mock started for the run; the mock's options
    /// below are then unused.
    pub remote: Option<RemoteUpstream>,
    pub latency: LatencyModel,
    pub output: OutputLength,
    pub limits: RateLimits,
    /// Chance per request of an "overloaded" answer.
    pub overload: f64,
    /// Where its interposer listens (`listen:`, or `--listen`); port 0 takes any free port.
    pub listen: std::net::SocketAddr,
}

/// A real provider behind an upstream's interposer (`url:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUpstream {
    /// Its origin, scheme, host and port only: `https://api.openai.com`. Each request keeps its
    /// own path.
    pub url: String,
    /// The environment variable whose value the interposer presents as the key, in place of
    /// whatever key the target sent; `None`: the target's own key passes through.
    pub key_env: Option<String>,
}

/// The system under test.
#[derive(Debug, Clone)]
pub enum Target {
    /// The harness's own client emulation, talking to the interposers directly.
    Builtin(BuiltinTarget),
    /// A running gateway.
    Url(UrlTarget),
    /// A gateway the harness starts and stops.
    Command(CommandTarget),
}

impl Target {
    /// The pool of keys the load presents to a gateway, if the scenario gives one.
    pub fn key_pool(&self) -> Option<&KeyPool> {
        match self {
            Target::Builtin(_) => None,
            Target::Url(url) => url.keys.as_ref(),
            Target::Command(command) => command.keys.as_ref(),
        }
    }

    /// The target in a line for reports: what it is and where, with no key and, for a command,
    /// only its program (its arguments may carry secrets).
    pub fn describe(&self, upstreams: &[Upstream]) -> String {
        match self {
            Target::Builtin(builtin) => {
                let policy = match builtin.policy {
                    RetryPolicy::Sdk(profile) => format!("retries like {}", profile.follows()),
                    RetryPolicy::Naive => "naive immediate retries".to_owned(),
                    RetryPolicy::Exponential => {
                        "retries after 1 s, 2 s, 4 s…, ignoring retry-after".to_owned()
                    }
                };
                let named = |index: &usize| {
                    let name = upstreams.get(*index).map_or("?", |u| u.name.as_str());
                    builtin
                        .models
                        .get(index)
                        .map_or_else(|| name.to_owned(), |model| format!("{name}/{model}"))
                };
                let chain: Vec<String> = builtin.chain.iter().map(named).collect();
                format!(
                    "built-in client: {} retries, {policy}, timeout {}, via {}",
                    builtin.retries,
                    crate::units::HumanDuration(builtin.timeout),
                    chain.join(" → ")
                )
            }
            Target::Url(url) => format!("gateway at {}", url.url),
            Target::Command(command) => {
                let program = command.command.split_whitespace().next().unwrap_or_default();
                format!("gateway started by the harness: `{program}`")
            }
        }
    }
}

/// The built-in client emulation used as the target.
#[derive(Debug, Clone)]
pub struct BuiltinTarget {
    pub retries: u32,
    /// Whose retry behaviour it emulates, or naive immediate retries.
    pub policy: RetryPolicy,
    pub timeout: Duration,
    /// Upstreams it tries, in order (the first is the primary), each through its interposer.
    pub chain: Vec<usize>,
    /// The model it asks of a fallback upstream instead of the request's (`fallbacks:
    /// [anthropic/claude-3-5-haiku]`), by upstream: what that upstream answers and bills.
    pub models: BTreeMap<usize, String>,
    /// Which of each upstream's keys it presents.
    pub keys: KeyUse,
}

/// How the built-in client uses an upstream's keys (`keys: one | pool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyUse {
    /// The first key, for every request: one team, one key.
    #[default]
    One,
    /// All of them in turn, one logical request after another (round robin): a key pool.
    Pool,
}

/// A running gateway at a base URL; the load sends each request in its kind's `api` format.
#[derive(Debug, Clone)]
pub struct UrlTarget {
    pub url: String,
    /// Name of the environment variable holding the key to present.
    pub api_key_env: Option<String>,
    /// Keys presented in turn instead (`keys_env`, `keys_file`), with figures per key.
    pub keys: Option<KeyPool>,
    pub timeout: Duration,
}

/// A gateway the harness starts with the interposers' addresses filled into its command line,
/// environment and files, waits for, and stops (with its children) at the end.
#[derive(Debug, Clone)]
pub struct CommandTarget {
    /// Run by `sh -c`, after templating.
    pub command: String,
    pub env: Vec<(String, String)>,
    /// Files rendered into the run folder: name → template file.
    pub files: Vec<(String, PathBuf)>,
    /// Template of the base URL the load goes to.
    pub base_url: String,
    /// Template of the URL polled until it answers 2xx.
    pub health: Option<String>,
    pub startup_timeout: Duration,
    pub api_key_env: Option<String>,
    /// Keys presented in turn instead (`keys_env`, `keys_file`), with figures per key.
    pub keys: Option<KeyPool>,
    pub timeout: Duration,
}

/// When logical requests start.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// On a schedule, whatever the target does: rate segments (one per phase) plus bursts.
    Open { process: Process, segments: Vec<Segment>, bursts: Vec<Burst> },
    /// `users` each waiting for their answer, then `think`ing, before the next request.
    Closed { users: u32, think: Duration },
}

impl Arrivals {
    /// A short description for summaries: `20/s poisson`, `1/s → 50/s constant`, `10 users`.
    pub fn describe(&self) -> String {
        let rate = |r: f64| format!("{}/s", (r * 1000.0).round() / 1000.0);
        match self {
            Arrivals::Open { process, segments, bursts } => {
                let mut rates: Vec<String> = Vec::new();
                for segment in segments {
                    let text = if segment.from == segment.to {
                        rate(segment.from)
                    } else {
                        format!("{}→{}", rate(segment.from), rate(segment.to))
                    };
                    if rates.last() != Some(&text) {
                        rates.push(text);
                    }
                }
                let burst_count: u32 = bursts.iter().map(|b| b.count).sum();
                let bursts =
                    if bursts.is_empty() { String::new() } else { format!(" + {burst_count} in bursts") };
                format!("{} {process:?}{bursts}", rates.join(", "))
            }
            Arrivals::Closed { users, think } => {
                format!("{users} closed-model users thinking {}", crate::units::HumanDuration(*think))
            }
        }
    }
}

/// The traffic to send.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub arrivals: Arrivals,
    /// The kinds of request and their shares.
    pub mix: RequestMix,
    /// How long in-flight requests may take to finish after the last phase.
    pub drain: Duration,
    /// In-flight bounds: skipped starts beyond `max_in_flight`, queueing beyond `connections`.
    pub limits: Limits,
    /// The generator's p99 start lateness beyond which the run is invalid.
    pub max_lag: Duration,
}

/// How much the generator may have going at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Starts that find this many requests unfinished (sent or waiting) are skipped.
    pub max_in_flight: usize,
    /// At most this many requests on the wire at once; the rest wait their turn.
    pub connections: Option<usize>,
}

impl Limits {
    /// Load thread `shard`'s part of these limits, of `shards`: the whole split as evenly as it
    /// goes.
    pub fn share(self, shard: usize, shards: usize) -> Limits {
        let part = |total: usize| total / shards + usize::from(shard < total % shards);
        Limits { max_in_flight: part(self.max_in_flight).max(1), connections: self.connections.map(part) }
    }
}

/// One phase on the timeline.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub start: Duration,
    pub duration: Duration,
    /// Fault rules per upstream, indexed like [`Plan::upstreams`].
    pub faults: Vec<Vec<FaultRule>>,
    /// Upstreams whose interposer refuses connections during the phase (zone loss, `refuse`).
    pub dark: Vec<bool>,
    /// The wall-clock time it starts at (`at:`), resolved into `start` and the previous phase's
    /// `duration` by [`Plan::anchored`].
    pub at: Option<super::wall_clock::WallTime>,
}

impl Phase {
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }

    /// Whether the phase injects anything at upstream `index`: a fault, or its going dark.
    pub fn injects_at(&self, index: usize) -> bool {
        self.faults.get(index).is_some_and(|faults| !faults.is_empty()) || self.dark.get(index) == Some(&true)
    }

    /// Whether the phase injects nothing anywhere: a baseline.
    pub fn is_clean(&self) -> bool {
        (0..self.faults.len().max(self.dark.len())).all(|index| !self.injects_at(index))
    }
}

/// The service level objective.
#[derive(Debug, Clone, Copy)]
pub struct Slo {
    /// Target availability as a fraction, e.g. 0.999.
    pub availability: f64,
    pub period: Duration,
}

/// US dollars per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
}

impl Plan {
    /// Total length of the timeline.
    pub fn duration(&self) -> Duration {
        self.phases.last().map_or(Duration::ZERO, Phase::end)
    }

    /// The upstream meant to serve: the built-in target's primary, else the first listed.
    pub fn primary_upstream(&self) -> usize {
        match &self.target {
            Target::Builtin(builtin) => builtin.chain.first().copied().unwrap_or(0),
            Target::Url(_) | Target::Command(_) => 0,
        }
    }

    /// Where each phase ends, in order.
    pub fn phase_ends(&self) -> Vec<Duration> {
        self.phases.iter().map(Phase::end).collect()
    }

    /// The phase whose window holds `at` (the last phase holds its own end).
    pub fn phase_at(&self, at: Duration) -> usize {
        self.phases.iter().position(|phase| at < phase.end()).unwrap_or(self.phases.len().saturating_sub(1))
    }

    /// The plan as run when the phase in force at `now` is cut short there (`skip` on the
    /// control API): that phase ends at `now`, and every later one starts that much earlier
    /// and keeps its duration. `None` when the last phase is in force (nothing to skip to).
    pub fn skipped_at(&self, now: Duration) -> Option<Plan> {
        let current = self.phase_at(now);
        if current + 1 >= self.phases.len() {
            return None;
        }
        let mut plan = self.clone();
        let phase = &mut plan.phases[current];
        phase.duration = now.saturating_sub(phase.start);
        let mut start = plan.phases[current].end();
        for later in &mut plan.phases[current + 1..] {
            later.start = start;
            start = later.end();
        }
        Some(plan)
    }

    /// The plan as run when the run stopped at `now` (Ctrl-C, a halt, `/stop`, `abort_on_fail`):
    /// the phase in force ends there, and every later one starts there and lasts nothing. Every
    /// phase keeps its place, so expectations still name theirs; figures, SLO budgets and
    /// per-second structures then cover the time that ran, not the time planned. The plan
    /// itself when `now` is at or past its end.
    pub fn stopped_at(&self, now: Duration) -> Plan {
        let mut plan = self.clone();
        for phase in &mut plan.phases {
            phase.start = phase.start.min(now);
            phase.duration = phase.end().min(now) - phase.start;
        }
        plan
    }

    /// A one-line description for `chaos validate`.
    pub fn summary(&self) -> String {
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|p| format!("{} {}", p.name, crate::units::HumanDuration(p.duration)))
            .collect();
        let speed =
            if self.speed.is_real_time() { String::new() } else { format!(" at speed {}", self.speed) };
        let remote: Vec<&str> =
            self.upstreams.iter().filter_map(|u| u.remote.as_ref()).map(|r| r.url.as_str()).collect();
        let remote = match remote.is_empty() {
            true => String::new(),
            false => format!(" (real: {})", remote.join(", ")),
        };
        let guard = self.max_spend.map_or_else(String::new, |limit| format!(", halts at ${limit} spent"));
        let shard = match self.shard.is_whole() {
            true => String::new(),
            false => format!(" (shard {} of the load: 1/{} of it)", self.shard, self.shard.count),
        };
        format!(
            "{}{speed}{shard}: {} upstream(s){remote}, {} phase(s) over {} ({}), {} load, {} expectation(s){guard}",
            self.name,
            self.upstreams.len(),
            self.phases.len(),
            crate::units::HumanDuration(self.duration()),
            phases.join(" → "),
            self.load.arrivals.describe(),
            self.expectations.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_ends_the_phase_now_and_moves_the_later_ones_earlier() {
        let yaml = "name: s\nupstreams: { openai: { mock: openai } }\nload: { arrival: { rate: 1/s }, request: { model: gpt-4o-mini } }\nphases:\n  - { name: a, duration: 10s }\n  - { name: b, duration: 20s }\n  - { name: c, duration: 5s }\n";
        let plan = crate::parse(yaml, std::path::Path::new("s.yaml")).expect("a plan");
        let skipped = plan.skipped_at(Duration::from_secs(14)).expect("b can be skipped");
        assert_eq!(
            skipped.phase_ends(),
            vec![Duration::from_secs(10), Duration::from_secs(14), Duration::from_secs(19)]
        );
        assert_eq!(skipped.phase_at(Duration::from_secs(14)), 2);
        assert_eq!(skipped.phases[2].duration, Duration::from_secs(5));
        assert!(skipped.skipped_at(Duration::from_secs(15)).is_none(), "the last phase has no next");
    }

    #[test]
    fn a_stop_ends_the_phase_in_force_and_leaves_the_later_ones_empty() {
        let yaml = "name: s\nupstreams: { openai: { mock: openai } }\nload: { arrival: { rate: 1/s }, request: { model: gpt-4o-mini } }\nphases:\n  - { name: a, duration: 10s }\n  - { name: b, duration: 300d }\n  - { name: c, duration: 5s }\n";
        let plan = crate::parse(yaml, std::path::Path::new("s.yaml")).expect("a plan");
        let stopped = plan.stopped_at(Duration::from_secs(13));
        assert_eq!(stopped.duration(), Duration::from_secs(13), "the run's length, not the plan's");
        assert_eq!(
            stopped.phase_ends(),
            vec![Duration::from_secs(10), Duration::from_secs(13), Duration::from_secs(13)]
        );
        assert_eq!(
            (stopped.phases[2].start, stopped.phases[2].duration),
            (Duration::from_secs(13), Duration::ZERO)
        );
        assert_eq!(stopped.phases.len(), 3, "every phase keeps its place");
        assert_eq!(plan.stopped_at(Duration::from_secs(400 * 86_400)).phase_ends(), plan.phase_ends());
    }
}
