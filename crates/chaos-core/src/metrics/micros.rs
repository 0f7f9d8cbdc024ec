//! HDR histograms of microseconds, as every timing in the harness keeps them: 3 significant
//! digits, growing to the largest value recorded, values clamped to 1 µs … 1 h.

use hdrhistogram::{Counter, Histogram};

/// The longest duration recorded exactly; longer ones are clamped (one hour).
pub const MAX_MICROS: u64 = 3_600_000_000;

/// An empty histogram that grows as values arrive.
pub fn histogram<C: Counter>() -> Histogram<C> {
    Histogram::new(3).expect("3 significant digits is a valid precision")
}

/// Records `count` values of `micros` (clamped), growing the histogram if it must.
pub fn record<C: Counter>(histogram: &mut Histogram<C>, micros: u64, count: u64) {
    let micros = micros.clamp(1, MAX_MICROS);
    // Counts beyond u32 are clamped; every histogram here counts in u32 or u64.
    let Some(count) = C::from_u64(count.min(u64::from(u32::MAX))) else { return };
    if histogram.record_n(micros, count).is_err() {
        // Only a counter that would overflow gets here; saturate it rather than lose the value.
        histogram.saturating_record_n(micros, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_hold_large_values() {
        let mut h = histogram::<u32>();
        record(&mut h, 90_000_000, 1);
        record(&mut h, 5, 2);
        assert_eq!(h.len(), 3);
        assert!(h.max() >= 89_990_000, "{}", h.max());
        record(&mut h, u64::MAX, 1);
        assert!(h.max() >= MAX_MICROS - MAX_MICROS / 1000);
    }
}
