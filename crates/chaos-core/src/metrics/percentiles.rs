//! Latency percentiles from an HDR histogram of microseconds ([`super::micros`]), reported in
//! milliseconds: the usual five, and the spectrum HdrHistogram plots, out to the maximum.

use hdrhistogram::{Counter, Histogram};
use serde::{Deserialize, Serialize};

/// p50, p90, p99, p99.9 and max, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Percentiles {
    /// Median, milliseconds.
    pub p50: f64,
    /// 90th percentile, milliseconds.
    pub p90: f64,
    /// 99th percentile, milliseconds.
    pub p99: f64,
    /// 99.9th percentile, milliseconds.
    pub p999: f64,
    /// The largest value, milliseconds.
    pub max: f64,
}

/// The value at one quantile of a spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpectrumPoint {
    /// The quantile, 0–1 (1 is the maximum).
    pub quantile: f64,
    /// The value there, milliseconds.
    pub ms: f64,
}

/// The quantiles of a latency spectrum: evenly spread on HdrHistogram's "1 in N" axis, where the
/// tail that coordinated omission hides takes as much room as the median.
pub const SPECTRUM_QUANTILES: [f64; 12] =
    [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0];

impl Percentiles {
    /// The percentiles of a histogram of microseconds, or `None` if it is empty.
    pub fn of<C: Counter>(micros: &Histogram<C>) -> Option<Percentiles> {
        if micros.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Percentiles {
            p50: ms(micros.value_at_quantile(0.5)),
            p90: ms(micros.value_at_quantile(0.9)),
            p99: ms(micros.value_at_quantile(0.99)),
            p999: ms(micros.value_at_quantile(0.999)),
            max: ms(micros.max()),
        })
    }

    /// The larger of two sets at each quantile: where only the percentiles of two sets of values
    /// are known, an upper bound on those of their union (a quantile of a union lies between the
    /// two sets' own), and exact for the maximum.
    pub fn upper(a: Option<Percentiles>, b: Option<Percentiles>) -> Option<Percentiles> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Percentiles {
                p50: a.p50.max(b.p50),
                p90: a.p90.max(b.p90),
                p99: a.p99.max(b.p99),
                p999: a.p999.max(b.p999),
                max: a.max.max(b.max),
            }),
            (a, b) => a.or(b),
        }
    }

    /// The value at quantile `q` in milliseconds (`q == 1.0` is the maximum).
    pub fn at(&self, q: f64) -> f64 {
        match q {
            q if q >= 1.0 => self.max,
            q if q >= 0.999 => self.p999,
            q if q >= 0.99 => self.p99,
            q if q >= 0.9 => self.p90,
            _ => self.p50,
        }
    }
}

/// A histogram's values at [`SPECTRUM_QUANTILES`], in milliseconds; empty when it is.
pub fn spectrum<C: Counter>(micros: &Histogram<C>) -> Vec<SpectrumPoint> {
    if micros.is_empty() {
        return Vec::new();
    }
    SPECTRUM_QUANTILES
        .iter()
        .map(|&quantile| {
            let value = if quantile >= 1.0 { micros.max() } else { micros.value_at_quantile(quantile) };
            SpectrumPoint { quantile, ms: value as f64 / 1000.0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::micros;

    #[test]
    fn percentiles_of_one_to_a_thousand_ms() {
        let mut histogram = micros::histogram::<u32>();
        for ms in 1..=1000 {
            micros::record(&mut histogram, ms * 1000, 1);
        }
        let p = Percentiles::of(&histogram).unwrap();
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
        assert_eq!(p.at(1.0), p.max);
    }

    #[test]
    fn nothing_recorded_gives_none() {
        assert!(Percentiles::of(&micros::histogram::<u64>()).is_none());
        assert!(spectrum(&micros::histogram::<u64>()).is_empty());
    }

    #[test]
    fn the_spectrum_climbs_to_the_maximum() {
        let mut histogram = micros::histogram::<u32>();
        for ms in 1..=10_000 {
            micros::record(&mut histogram, ms * 1000, 1);
        }
        let points = spectrum(&histogram);
        assert_eq!(points.len(), SPECTRUM_QUANTILES.len());
        assert!(points.windows(2).all(|pair| pair[0].ms <= pair[1].ms), "{points:?}");
        let at = |q: f64| points.iter().find(|p| p.quantile == q).unwrap().ms;
        assert!((at(0.999) - 9990.0).abs() < 10.0 && (at(1.0) - 10_000.0).abs() < 10.0, "{points:?}");
    }
}
