//! Latency percentiles from an HDR histogram of microseconds ([`super::micros`]), reported in
//! milliseconds.

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
    }
}
