//! The noise floor a run records (`chaos run --calibrate`): the few figures of a bench that sit
//! under every figure of the run — what the interposer adds to each attempt, how late the
//! generator starts requests, how far a mock's token timing strays — with when and how they
//! were measured. The report shows it in its header, beside the figures it qualifies. The
//! type is the results contract's ([`NoiseFloor`]); measuring and reading it is the bench's.

pub use crate::results::NoiseFloor;

use std::path::Path;

use anyhow::Context;

use super::{BenchReport, Profile, BENCH_SCHEMA};

/// The floor in a bench's figures, labelled with where they came from.
pub fn from_bench(bench: &BenchReport, source: &str) -> NoiseFloor {
    let interposer = bench.interposer.as_ref();
    let errors = bench.streams.as_ref().and_then(|s| s.mock.inter_token_error_ms);
    NoiseFloor {
        measured_at: bench.measured_at.clone(),
        source: source.to_owned(),
        profile: bench.profile,
        interposer_added_p50_ms: interposer.and_then(|i| i.added_p50_us).map(|us| us / 1000.0),
        interposer_added_p99_ms: interposer.and_then(|i| i.added_p99_us).map(|us| us / 1000.0),
        interposer_rate: interposer.map(|i| i.load.rate),
        generator_lag_p50_ms: interposer.and_then(|i| i.start_lag_p50_ms),
        generator_lag_p99_ms: interposer.and_then(|i| i.start_lag_p99_ms),
        mock_inter_token_error_p50_ms: errors.map(|e| e.p50),
        mock_inter_token_error_p99_ms: errors.map(|e| e.p99),
        mock_streams: bench.streams.as_ref().map(|s| s.load.streams),
        valid: interposer.is_none_or(|i| i.valid),
    }
}

/// Measures the calibration profile now.
pub async fn measure() -> anyhow::Result<NoiseFloor> {
    let bench = super::run(Profile::Calibration).await.context("calibrating the harness")?;
    Ok(from_bench(&bench, "measured before this run"))
}

/// Reads the floor from a `chaos bench` JSON file.
pub fn read(path: &Path) -> anyhow::Result<NoiseFloor> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bench: BenchReport = serde_json::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "{}:{}:{}: not a `chaos bench` file ({BENCH_SCHEMA}): {error}",
            path.display(),
            error.line(),
            error.column()
        )
    })?;
    if bench.schema != BENCH_SCHEMA {
        anyhow::bail!("{}: schema {:?}, expected {BENCH_SCHEMA:?}", path.display(), bench.schema);
    }
    Ok(from_bench(&bench, &format!("chaos bench, {}", path.display())))
}
