//! `trickle`: every event is held back a little, so tokens arrive slowly (a degraded model) —
//! by a fixed gap, or by a gap drawn per event from a uniform, normal or Pareto distribution
//! (jittery, heavy-tailed token timing). Draws are seeded per request ([`TrickleFault::drawn_from`])
//! and per event index, so the same seed gives the same gaps whatever else is in flight.

use std::time::Duration;

use rand::{
    rngs::{SmallRng, StdRng},
    Rng, SeedableRng,
};
use serde_saphyr::Spanned;

use super::{
    delay::{DelayDistribution, RawLatency},
    Decision, EventAction, Fault, FaultContext, RequestView,
};
use crate::{located::Checked, speed::Speed, wire::sse_split::SseEvent};

/// Delays every event by a gap from `gap`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrickleFault {
    pub gap: DelayDistribution,
    /// Seeds the per-event draws of a random gap; set for each request that the fault fires on.
    pub seed: u64,
}

impl TrickleFault {
    /// The same gap before every event.
    pub fn fixed(gap: Duration) -> Self {
        TrickleFault { gap: DelayDistribution::Fixed(gap), seed: 0 }
    }

    /// This fault for one request, its per-event draws seeded from the request's own draw
    /// stream. A fixed gap draws nothing, so it leaves the stream as it was.
    pub fn drawn_from(&self, rng: &mut impl Rng) -> Self {
        match self.gap {
            DelayDistribution::Fixed(_) => self.clone(),
            _ => TrickleFault { seed: rng.random(), ..self.clone() },
        }
    }
}

impl Fault for TrickleFault {
    const NAME: &'static str = "trickle";
    const EXAMPLE: &'static str = "`trickle: 200ms` (or `{ uniform: [50ms, 300ms] }`)";
    type Raw = RawLatency;
    type Options = ();

    fn check(raw: &Spanned<RawLatency>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        Ok(TrickleFault { gap: DelayDistribution::check(raw)?, seed: 0 })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        TrickleFault { gap: self.gap.at_speed(speed), ..self.clone() }
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn for_request(&self, rng: &mut StdRng) -> Self {
        self.drawn_from(rng)
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        EventAction::Delay(self.gap_before(event.index))
    }
}

impl TrickleFault {
    fn gap_before(&self, index: u64) -> Duration {
        match self.gap {
            DelayDistribution::Fixed(gap) => gap,
            _ => self
                .gap
                .sample(&mut SmallRng::seed_from_u64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(index: u64) -> SseEvent<'static> {
        SseEvent { index, bytes: b"data: {}\n\n", tool_argument: None }
    }

    #[test]
    fn a_fixed_gap_delays_every_event_alike() {
        let fault = TrickleFault::fixed(Duration::from_millis(200));
        for index in [0, 1, 50] {
            assert_eq!(fault.on_event(&event(index)), EventAction::Delay(Duration::from_millis(200)));
        }
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(fault.drawn_from(&mut rng), fault, "a fixed gap takes no draw");
    }

    #[test]
    fn a_drawn_gap_varies_by_event_within_its_bounds_and_repeats_for_the_same_seed() {
        let (min, max) = (Duration::from_millis(50), Duration::from_millis(300));
        let template = TrickleFault { gap: DelayDistribution::Uniform { min, max }, seed: 0 };
        let fault = template.drawn_from(&mut SmallRng::seed_from_u64(7));
        let gaps: Vec<Duration> = (0..200).map(|i| fault.gap_before(i)).collect();
        assert!(gaps.iter().all(|g| (min..=max).contains(g)), "{gaps:?}");
        let mean = gaps.iter().sum::<Duration>() / 200;
        assert!(mean > Duration::from_millis(150) && mean < Duration::from_millis(200), "{mean:?}");
        let again = template.drawn_from(&mut SmallRng::seed_from_u64(7));
        assert_eq!((0..200).map(|i| again.gap_before(i)).collect::<Vec<_>>(), gaps, "same seed, same gaps");
        let other = template.drawn_from(&mut SmallRng::seed_from_u64(8));
        assert_ne!((0..200).map(|i| other.gap_before(i)).collect::<Vec<_>>(), gaps);
    }
}
