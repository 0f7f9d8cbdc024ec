//! The harness's own part in a run: how the load generator kept up, what the journal kept and a
//! replay imposed, the noise floor it was calibrated with, and the halt that stopped it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Percentiles;
pub use crate::metrics::{journal::JournalStats, replay::ReplayStats};

/// The generator's section of the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratorReport {
    /// Requests started.
    pub sent: u64,
    /// Scheduled starts skipped because the generator could not start them.
    pub missed: u64,
    /// The threads the load ran on: one, or one per core for a rate one thread would not keep
    /// up with (results written before this field: one).
    #[serde(default = "one_thread")]
    pub threads: u32,
    /// Lateness of starts behind the schedule, milliseconds.
    pub lag_ms: Option<Percentiles>,
    /// The largest lateness of a start behind the schedule, milliseconds.
    pub max_lag_ms: f64,
    /// False when the run is invalid because the generator fell behind.
    pub kept_up: bool,
    /// How it fell behind, in words; empty when it kept up.
    pub problems: Vec<String>,
}

/// The harness's own contribution to a run's figures, measured on the machine that ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoiseFloor {
    /// RFC 3339, UTC: when it was measured.
    pub measured_at: String,
    /// How: `measured before this run` or the `chaos bench` file it was read from.
    pub source: String,
    /// The bench profile the figures come from.
    pub profile: Profile,
    /// The interposer's added service time over going direct, p50 and p99, milliseconds, at
    /// `interposer_rate` requests per second.
    pub interposer_added_p50_ms: Option<f64>,
    pub interposer_added_p99_ms: Option<f64>,
    pub interposer_rate: Option<u32>,
    /// How late the generator started requests behind its schedule, p50 and p99, milliseconds.
    pub generator_lag_p50_ms: Option<f64>,
    pub generator_lag_p99_ms: Option<f64>,
    /// A mock's inter-token timing error as it wrote its events, p50 and p99, milliseconds, at
    /// `mock_streams` concurrent streams.
    pub mock_inter_token_error_p50_ms: Option<f64>,
    pub mock_inter_token_error_p99_ms: Option<f64>,
    pub mock_streams: Option<u32>,
    /// False when a calibration run had failures or the generator fell behind: the figures
    /// are then not a floor.
    pub valid: bool,
}

impl NoiseFloor {
    /// One line for a report's header: each figure with the load it was measured at.
    pub fn describe(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2} ms"));
        let signed = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:+.2} ms"));
        let mut parts = Vec::new();
        if self.interposer_rate.is_some() {
            parts.push(format!(
                "interposer {} p50, {} p99 at {}/s",
                signed(self.interposer_added_p50_ms),
                signed(self.interposer_added_p99_ms),
                self.interposer_rate.unwrap_or_default()
            ));
            parts.push(format!(
                "generator start lag {} p50, {} p99",
                ms(self.generator_lag_p50_ms),
                ms(self.generator_lag_p99_ms)
            ));
        }
        if let Some(streams) = self.mock_streams {
            parts.push(format!(
                "mock inter-token error {} p99 at {streams} streams",
                ms(self.mock_inter_token_error_p99_ms)
            ));
        }
        let caveat = if self.valid { "" } else { " (not a floor: the calibration run had failures)" };
        format!("{}{caveat}; {}, {}", parts.join("; "), self.source, self.measured_at)
    }
}

/// How much to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The loads the project's targets are stated at (about two minutes).
    Full,
    /// Small loads, a few seconds each: a smoke test of the machinery, not a measurement.
    Quick,
    /// What `chaos run --calibrate` measures before a run: the interposer at a modest rate and
    /// a few hundred streams, no rate ladder (about fifteen seconds).
    Calibration,
}

/// Which halt condition stopped the run, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Halt {
    /// The condition as written.
    pub condition: String,
    /// The live value that satisfied it, in the metric's base unit (a fraction, seconds, a
    /// ratio, US dollars).
    pub observed: f64,
    /// Seconds from the run's start to the moment it was seen.
    pub at_s: f64,
    /// The phase the run was in.
    pub phase: String,
    /// Who stopped the run by hand (an emergency stop on the control API, with the reason
    /// given); absent when a halt condition did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

fn one_thread() -> u32 {
    1
}

impl Halt {
    /// An emergency stop asked for by `by` at `at` into the run, in `phase`.
    pub fn stop(by: String, at: Duration, phase: String) -> Halt {
        Halt {
            condition: "emergency stop".to_owned(),
            observed: 1.0,
            at_s: at.as_secs_f64(),
            phase,
            by: Some(by),
        }
    }
}
