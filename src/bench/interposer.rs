//! What the interposer costs: a fast `chaos mock` child, a `chaos proxy` child (no fault) in
//! front of it, a `chaos proxy --bare-relay` child beside it (bytes copied, nothing else: the
//! least any user-space hop adds here), and the generator driving each path in turn — at a
//! fixed open-model rate for the added latency, and with closed-model users for the saturated
//! throughput. Rounds rotate which path goes first, and the added figures are paired within a
//! round, so a machine that gets busier halfway through shifts every path alike.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    child::ChildServer,
    median,
    probe::{Arrival, Probe, Scratch},
};

/// How to measure the interposer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterposerLoad {
    /// The fixed open-model rate of the latency runs, per second.
    pub rate: u32,
    /// Connections in the latency runs, and users in the throughput runs.
    pub connections: u32,
    /// Seconds of each run.
    pub seconds: f64,
    /// Rounds of every run, each path once per round.
    pub rounds: u32,
    /// Whether the bare relay is measured too (a calibration before a run, which records only
    /// the interposer's figures, leaves it out).
    #[serde(default)]
    pub with_relay: bool,
}

/// One round's figures, milliseconds and requests per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterposerRound {
    /// Service time (from the actual send) p50 and p99: direct, then through the interposer.
    pub direct_p50_ms: Option<f64>,
    pub direct_p99_ms: Option<f64>,
    pub proxied_p50_ms: Option<f64>,
    pub proxied_p99_ms: Option<f64>,
    /// How late the generator started requests behind its schedule in the direct run, p50 and
    /// p99, milliseconds: the generator's own floor.
    pub start_lag_p50_ms: Option<f64>,
    pub start_lag_p99_ms: Option<f64>,
    /// Saturated throughput: direct, then through the interposer.
    pub direct_per_s: f64,
    pub proxied_per_s: f64,
    /// The same through the bare relay, when it was measured: service time p50 and p99, and
    /// saturated throughput.
    pub relayed_p50_ms: Option<f64>,
    pub relayed_p99_ms: Option<f64>,
    pub relayed_per_s: Option<f64>,
}

/// The interposer's cost, as medians over rounds of paired figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterposerFigures {
    pub load: InterposerLoad,
    /// Added service time at p50 and p99 (through − direct, paired by round), microseconds.
    pub added_p50_us: Option<f64>,
    pub added_p99_us: Option<f64>,
    /// Saturated throughput through the interposer ÷ direct.
    pub throughput_ratio: Option<f64>,
    /// What the bare relay adds at p50 and p99, microseconds, and its throughput ÷ direct:
    /// the floor of any user-space hop on this machine, under the interposer's figures above.
    pub relay_added_p50_us: Option<f64>,
    pub relay_added_p99_us: Option<f64>,
    pub relay_throughput_ratio: Option<f64>,
    /// The generator's start lateness at the fixed rate, p50 and p99, milliseconds.
    pub start_lag_p50_ms: Option<f64>,
    pub start_lag_p99_ms: Option<f64>,
    /// The interposer's CPU per request it forwarded, microseconds (its process's user +
    /// system time over every request sent through it).
    pub cpu_per_request_us: Option<f64>,
    /// The same of the bare relay.
    pub relay_cpu_per_request_us: Option<f64>,
    /// Whether every request of every run succeeded and the generator kept up; figures from a
    /// run where it did not are not comparable.
    pub valid: bool,
    pub rounds: Vec<InterposerRound>,
}

/// Measures the interposer's added latency and throughput ratio, and the bare relay's.
pub async fn measure(scratch: &Scratch, load: InterposerLoad) -> anyhow::Result<InterposerFigures> {
    let mock = ChildServer::start(&["mock", "--openai", "127.0.0.1:0"]).await?;
    let upstream = format!("http://{}", mock.addr);
    let proxy = ChildServer::start(&["proxy", "--upstream", &upstream, "--listen", "127.0.0.1:0"]).await?;
    let relay = match load.with_relay {
        true => {
            let args = ["proxy", "--upstream", &upstream, "--listen", "127.0.0.1:0", "--bare-relay"];
            Some(ChildServer::start(&args).await?)
        }
        false => None,
    };
    let mut paths = vec![upstream.clone(), format!("http://{}", proxy.addr)];
    paths.extend(relay.iter().map(|relay| format!("http://{}", relay.addr)));
    let duration = Duration::from_secs_f64(load.seconds);
    let fixed = Arrival::Open { rate: load.rate, connections: load.connections };
    let saturated = Arrival::Closed { users: load.connections };
    let (proxy_cpu_before, relay_cpu_before) =
        (proxy.cpu_seconds(), relay.as_ref().and_then(ChildServer::cpu_seconds));
    let mut rounds = Vec::new();
    let mut valid = true;
    let (mut proxied_requests, mut relayed_requests) = (0, 0);
    for round in 0..load.rounds {
        let first = round as usize % paths.len();
        let fixed_rate = in_turn(scratch, &paths, fixed, duration, first).await?;
        let saturation = in_turn(scratch, &paths, saturated, duration, first).await?;
        valid &= fixed_rate.iter().all(|p| p.all_succeeded() && p.kept_up && p.missed == 0);
        valid &= saturation.iter().all(Probe::all_succeeded);
        // Direct, through the interposer, and through the relay when there is one.
        let [direct, through, relayed] = [0, 1, 2].map(|index| fixed_rate.get(index));
        let [direct_sat, through_sat, relayed_sat] = [0, 1, 2].map(|index| saturation.get(index));
        proxied_requests += [through, through_sat].into_iter().flatten().map(|p| p.sent).sum::<u64>();
        relayed_requests += [relayed, relayed_sat].into_iter().flatten().map(|p| p.sent).sum::<u64>();
        let (direct_p50_ms, direct_p99_ms) = p50_p99(direct.and_then(|p| p.service_time_ms));
        let (proxied_p50_ms, proxied_p99_ms) = p50_p99(through.and_then(|p| p.service_time_ms));
        let (relayed_p50_ms, relayed_p99_ms) = p50_p99(relayed.and_then(|p| p.service_time_ms));
        let (start_lag_p50_ms, start_lag_p99_ms) = p50_p99(direct.and_then(|p| p.lag_ms));
        rounds.push(InterposerRound {
            direct_p50_ms,
            direct_p99_ms,
            proxied_p50_ms,
            proxied_p99_ms,
            start_lag_p50_ms,
            start_lag_p99_ms,
            direct_per_s: direct_sat.map_or(0.0, Probe::throughput),
            proxied_per_s: through_sat.map_or(0.0, Probe::throughput),
            relayed_p50_ms,
            relayed_p99_ms,
            relayed_per_s: relayed_sat.map(Probe::throughput),
        });
    }
    let cpu_per_request_us = cpu_per_request(&proxy, proxy_cpu_before, proxied_requests);
    let relay_cpu_per_request_us =
        relay.as_ref().and_then(|relay| cpu_per_request(relay, relay_cpu_before, relayed_requests));
    let ratio = |through: f64, direct: f64| Some(through / direct).filter(|ratio| ratio.is_finite());
    Ok(InterposerFigures {
        load,
        added_p50_us: median(rounds.iter().map(|r| added_us(r.proxied_p50_ms, r.direct_p50_ms))),
        added_p99_us: median(rounds.iter().map(|r| added_us(r.proxied_p99_ms, r.direct_p99_ms))),
        throughput_ratio: median(rounds.iter().map(|r| ratio(r.proxied_per_s, r.direct_per_s))),
        relay_added_p50_us: median(rounds.iter().map(|r| added_us(r.relayed_p50_ms, r.direct_p50_ms))),
        relay_added_p99_us: median(rounds.iter().map(|r| added_us(r.relayed_p99_ms, r.direct_p99_ms))),
        relay_throughput_ratio: median(rounds.iter().map(|r| ratio(r.relayed_per_s?, r.direct_per_s))),
        start_lag_p50_ms: median(rounds.iter().map(|r| r.start_lag_p50_ms)),
        start_lag_p99_ms: median(rounds.iter().map(|r| r.start_lag_p99_ms)),
        cpu_per_request_us,
        relay_cpu_per_request_us,
        valid: valid && !rounds.is_empty(),
        rounds,
    })
}

/// Probes every path in turn, starting from `first` and wrapping round, and returns their
/// figures in the paths' order.
async fn in_turn(
    scratch: &Scratch,
    paths: &[String],
    arrival: Arrival,
    duration: Duration,
    first: usize,
) -> anyhow::Result<Vec<Probe>> {
    let mut probed = Vec::with_capacity(paths.len());
    for step in 0..paths.len() {
        let index = (first + step) % paths.len();
        probed.push((index, scratch.probe(&paths[index], arrival, duration).await?));
    }
    probed.sort_by_key(|(index, _)| *index);
    Ok(probed.into_iter().map(|(_, probe)| probe).collect())
}

/// The CPU `server` spent since it had spent `before` seconds, per request of `requests`,
/// microseconds.
fn cpu_per_request(server: &ChildServer, before: Option<f64>, requests: u64) -> Option<f64> {
    let spent = server.cpu_seconds()? - before?;
    (requests > 0).then(|| spent * 1e6 / requests as f64)
}

/// A distribution's p50 and p99, when there is one.
fn p50_p99(percentiles: Option<crate::metrics::Percentiles>) -> (Option<f64>, Option<f64>) {
    (percentiles.map(|p| p.p50), percentiles.map(|p| p.p99))
}

/// Through − direct, milliseconds to microseconds.
fn added_us(through_ms: Option<f64>, direct_ms: Option<f64>) -> Option<f64> {
    Some((through_ms? - direct_ms?) * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_file_written_before_the_relay_still_reads() {
        let round = r#"{"direct_p50_ms": 0.1, "direct_p99_ms": 0.2, "proxied_p50_ms": 0.15,
            "proxied_p99_ms": 0.3, "start_lag_p50_ms": 0.5, "start_lag_p99_ms": 1.0,
            "direct_per_s": 30000.0, "proxied_per_s": 20000.0}"#;
        let round: InterposerRound = serde_json::from_str(round).expect("an older round reads");
        assert_eq!((round.relayed_p50_ms, round.relayed_per_s), (None, None));
        let load = r#"{"rate": 2000, "connections": 50, "seconds": 5.0, "rounds": 2}"#;
        let load: InterposerLoad = serde_json::from_str(load).expect("an older load reads");
        assert!(!load.with_relay);
    }
}
