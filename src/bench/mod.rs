//! `chaos bench`: the harness's own noise floor on this machine, in one run — what the
//! interposer adds over going direct, the highest open-model rate the generator sustains, and
//! how closely a mock keeps its streams' token timing — printed as a table and written as
//! JSON. `chaos run --calibrate` measures a short version of it before a run and records it in
//! the results ([`floor`]), so the report can say how much of a figure is the harness.
//!
//! Every server measured is a child process (`chaos mock`, `chaos proxy`) as a user runs it,
//! and every load is the generator `chaos run` uses ([`probe`]), so the figures are the ones a
//! run is subject to.

pub use crate::results::Profile;

pub mod child;
pub mod floor;
pub mod generator;
pub mod interposer;
pub mod probe;
pub mod streams;
mod table;

use serde::{Deserialize, Serialize};

pub use floor::NoiseFloor;
pub use table::render_table;

use generator::{GeneratorFigures, RateLadder};
use interposer::{InterposerFigures, InterposerLoad};
use streams::{StreamFigures, StreamLoad};

/// The version of the bench document's shape.
pub const BENCH_SCHEMA: &str = "chaos-bench/1";

/// What a profile measures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchPlan {
    pub interposer: Option<InterposerLoad>,
    pub generator: Option<RateLadder>,
    pub streams: Option<StreamLoad>,
}

/// The loads a profile runs.
pub fn plan_of(profile: Profile) -> BenchPlan {
    match profile {
        Profile::Full => BenchPlan {
            interposer: Some(InterposerLoad {
                rate: 2000,
                connections: 50,
                seconds: 5.0,
                rounds: 2,
                with_relay: true,
            }),
            generator: Some(RateLadder {
                rates: vec![
                    2_000, 4_000, 8_000, 12_000, 16_000, 20_000, 24_000, 32_000, 40_000, 48_000, 56_000,
                    64_000,
                ],
                connections: 50,
                seconds: 4.0,
            }),
            streams: Some(StreamLoad { streams: 2000, tokens: 100, tokens_per_second: 50 }),
        },
        Profile::Quick => BenchPlan {
            interposer: Some(InterposerLoad {
                rate: 200,
                connections: 10,
                seconds: 1.0,
                rounds: 1,
                with_relay: true,
            }),
            generator: Some(RateLadder { rates: vec![100, 200], connections: 10, seconds: 2.0 }),
            streams: Some(StreamLoad { streams: 50, tokens: 10, tokens_per_second: 50 }),
        },
        Profile::Calibration => BenchPlan {
            interposer: Some(InterposerLoad {
                rate: 1000,
                connections: 50,
                seconds: 2.0,
                rounds: 1,
                with_relay: false,
            }),
            generator: None,
            streams: Some(StreamLoad { streams: 200, tokens: 40, tokens_per_second: 50 }),
        },
    }
}

/// Everything one `chaos bench` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenchReport {
    /// [`BENCH_SCHEMA`].
    pub schema: String,
    /// The version of `chaos` that measured.
    pub harness_version: String,
    /// RFC 3339, UTC.
    pub measured_at: String,
    pub profile: Profile,
    /// Where it ran.
    pub environment: crate::results::Environment,
    pub interposer: Option<InterposerFigures>,
    pub generator: Option<GeneratorFigures>,
    pub streams: Option<StreamFigures>,
    /// Wall time of the whole bench, seconds.
    pub took_s: f64,
}

/// Runs `profile` on this machine.
pub async fn run(profile: Profile) -> anyhow::Result<BenchReport> {
    let started = std::time::Instant::now();
    let measured_at =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?;
    let plan = plan_of(profile);
    let scratch = probe::Scratch::new()?;
    let interposer = match plan.interposer {
        Some(load) => Some(interposer::measure(&scratch, load).await?),
        None => None,
    };
    let generator = match plan.generator {
        Some(ladder) => Some(generator::measure(&scratch, ladder).await?),
        None => None,
    };
    let streams = match plan.streams {
        Some(load) => Some(streams::measure(load).await?),
        None => None,
    };
    Ok(BenchReport {
        schema: BENCH_SCHEMA.to_owned(),
        harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        measured_at,
        profile,
        environment: crate::results::Environment::capture(&std::env::args().collect::<Vec<_>>()),
        interposer,
        generator,
        streams,
        took_s: started.elapsed().as_secs_f64(),
    })
}

/// The median of the figures there are; `None` when there is none.
fn median(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut values: Vec<f64> = values.flatten().filter(|v| !v.is_nan()).collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[n / 2]),
        n => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_middle_pair_s_mean_and_missing_figures_are_left_out() {
        assert_eq!(median([Some(3.0), Some(1.0), Some(2.0)].into_iter()), Some(2.0));
        assert_eq!(
            median([Some(4.0), Some(1.0), None, Some(f64::NAN), Some(2.0), Some(3.0)].into_iter()),
            Some(2.5)
        );
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn the_full_profile_measures_at_the_loads_the_targets_are_stated_at() {
        let plan = plan_of(Profile::Full);
        assert_eq!(plan.interposer.map(|l| l.rate), Some(2000));
        assert_eq!(plan.streams.map(|s| (s.streams, s.tokens_per_second)), Some((2000, 50)));
        let ladder = plan.generator.expect("a rate ladder");
        assert!(ladder.rates.windows(2).all(|w| w[0] < w[1]), "rates climb");
    }
}
