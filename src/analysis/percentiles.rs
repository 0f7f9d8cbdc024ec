//! Latency percentiles from an HDR histogram (3 significant digits, microsecond resolution),
//! reported in milliseconds.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::metrics::micros;

/// p50, p90, p99, p99.9 and max, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// Collects durations for [`Percentiles`].
pub struct PercentileRecorder {
    histogram: Histogram<u64>,
}

impl Percentiles {
    pub fn recorder() -> PercentileRecorder {
        PercentileRecorder { histogram: micros::histogram() }
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

impl PercentileRecorder {
    pub fn record(&mut self, duration: Duration) {
        micros::record(&mut self.histogram, u64::try_from(duration.as_micros()).unwrap_or(u64::MAX), 1);
    }

    /// Records a duration if there is one.
    pub fn record_some(&mut self, duration: Option<Duration>) {
        if let Some(duration) = duration {
            self.record(duration);
        }
    }

    /// Adds every value of a histogram of microseconds.
    pub fn add_micros<C: hdrhistogram::Counter>(&mut self, micros: &Histogram<C>) {
        // Same precision on both sides, so each bucket's value lands in the same bucket: exact.
        for bucket in micros.iter_recorded() {
            micros::record(&mut self.histogram, bucket.value_iterated_to(), bucket.count_at_value().as_u64());
        }
    }

    /// The percentiles, or `None` if nothing was recorded.
    pub fn finish(&self) -> Option<Percentiles> {
        let h = &self.histogram;
        if h.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Percentiles {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_thousand_ms() {
        let mut recorder = Percentiles::recorder();
        for ms in 1..=1000 {
            recorder.record(Duration::from_millis(ms));
        }
        let p = recorder.finish().unwrap();
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
        assert_eq!(p.at(1.0), p.max);
    }

    #[test]
    fn nothing_recorded_gives_none() {
        assert!(Percentiles::recorder().finish().is_none());
    }
}
