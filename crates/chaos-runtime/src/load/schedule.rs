//! The open-model schedule: the instants logical requests are *meant* to start, whatever the
//! target does. Latency is measured from these instants (coordinated-omission-correct).
//!
//! The rate is a profile over the run: constant or linear-ramp segments (one per phase, so
//! phases give step stages), plus bursts of requests at one instant. Arrivals are placed by
//! inverting the cumulative rate Λ(t) = ∫ r: the k-th constant arrival is at Λ⁻¹(k), the k-th
//! Poisson arrival at Λ⁻¹(E₁ + … + E_k) with Eᵢ ~ Exp(1) — a non-homogeneous Poisson process by
//! time rescaling, so ramps and steps need no special cases.

use std::time::Duration;

use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::scenario::{
    rate_profile::{Burst, Process, Segment},
    shard::Shard,
};

/// A sequence of intended start offsets, in order: the profile's arrivals merged with bursts.
#[derive(Debug)]
pub struct Schedule {
    process: Process,
    segments: Vec<Segment>,
    /// Burst instants still to come, one entry per request, latest first.
    bursts: Vec<Duration>,
    /// Cumulative count the next arrival is at.
    target: f64,
    /// Index of the segment `target` falls in, and the cumulative count at its start.
    segment: usize,
    segment_base: f64,
    rng: StdRng,
    next_profile: Option<Duration>,
    /// Which shard of the plan's load this is: the ids of its requests, and the stride of its
    /// arrivals on the cumulative axis.
    numbering: Shard,
}

impl Schedule {
    /// A schedule over `segments` (in order, not overlapping) plus `bursts`; `seed` fixes
    /// Poisson draws.
    pub fn new(process: Process, segments: Vec<Segment>, bursts: &[Burst], seed: u64) -> Self {
        Schedule::of_shard(process, segments, bursts, seed, Shard::WHOLE)
    }

    /// Shard `shard`'s schedule, from the plan's whole segments and the shard's bursts
    /// ([`crate::scenario::Plan::sharded`]): arrivals N times as far apart on the cumulative
    /// axis, so at 1/N the rate. A constant process takes the plan's K-th arrival and every N-th
    /// after it, the very instants the whole plan has; a Poisson process draws from the shard's
    /// own stream, so that the N shards' arrivals add up to the plan's (`scenario::shard`).
    pub fn of_shard(
        process: Process,
        segments: Vec<Segment>,
        bursts: &[Burst],
        seed: u64,
        shard: Shard,
    ) -> Self {
        let mut burst_starts: Vec<Duration> =
            bursts.iter().flat_map(|b| std::iter::repeat_n(b.at, b.count as usize)).collect();
        burst_starts.sort_unstable_by(|a, b| b.cmp(a));
        let mut schedule = Schedule {
            process,
            segments,
            bursts: burst_starts,
            target: 0.0,
            segment: 0,
            segment_base: 0.0,
            rng: StdRng::seed_from_u64(shard.seed(seed)),
            next_profile: None,
            numbering: shard,
        };
        schedule.target = schedule.gap();
        if process == Process::Constant {
            schedule.target = 1.0 + f64::from(shard.index);
        }
        schedule.next_profile = schedule.profile_arrival();
        schedule
    }

    /// Which shard of the plan's load this is: its `i`-th arrival is the plan's request
    /// `numbering().id(i)`.
    pub fn numbering(&self) -> Shard {
        self.numbering
    }

    /// The highest rate any segment reaches, requests per second (bursts aside).
    pub fn peak_rate(&self) -> f64 {
        self.segments.iter().map(|s| s.from.max(s.to)).fold(0.0, f64::max) / f64::from(self.numbering.count)
    }

    /// One constant `rate` from 0 for as long as `length`.
    pub fn constant_rate(process: Process, rate: f64, length: Duration, seed: u64) -> Self {
        Schedule::new(
            process,
            vec![Segment { start: Duration::ZERO, end: length, from: rate, to: rate }],
            &[],
            seed,
        )
    }

    /// The distance to the next arrival on the cumulative-count axis.
    fn gap(&mut self) -> f64 {
        let stride = f64::from(self.numbering.count);
        match self.process {
            Process::Constant => stride,
            Process::Poisson => -(1.0 - self.rng.random::<f64>()).ln() * stride,
        }
    }

    /// The instant of the arrival at cumulative count `self.target`, if the profile reaches it.
    fn profile_arrival(&mut self) -> Option<Duration> {
        // A constant schedule's first arrival is at the very start, as users expect.
        let x = if self.process == Process::Constant { self.target - 1.0 } else { self.target };
        while let Some(segment) = self.segments.get(self.segment) {
            let area = segment.area();
            if x - self.segment_base < area {
                let offset = segment.offset_for(x - self.segment_base);
                return segment.start.checked_add(Duration::try_from_secs_f64(offset).ok()?);
            }
            self.segment_base += area;
            self.segment += 1;
        }
        None
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let burst = self.bursts.last().copied();
        match (self.next_profile, burst) {
            (_, Some(at)) if self.next_profile.is_none_or(|next| at <= next) => self.bursts.pop(),
            (Some(next), _) => {
                self.target += self.gap();
                self.next_profile = self.profile_arrival();
                Some(next)
            }
            (None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let starts: Vec<_> = Schedule::constant_rate(Process::Constant, 4.0, secs(10.0), 0).take(5).collect();
        let millis: Vec<_> = starts.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [0, 250, 500, 750, 1000]);
    }

    #[test]
    fn poisson_keeps_the_mean_rate_and_is_seeded() {
        let count = Schedule::constant_rate(Process::Poisson, 50.0, secs(100.0), 3).count();
        assert!((4700..5300).contains(&count), "{count}");
        let a: Vec<_> = Schedule::constant_rate(Process::Poisson, 50.0, secs(100.0), 3).take(10).collect();
        let b: Vec<_> = Schedule::constant_rate(Process::Poisson, 50.0, secs(100.0), 3).take(10).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_ramp_holds_the_area_under_it_and_speeds_up() {
        // 0 → 100/s over 10 s: 500 arrivals, a quarter of them in the first half.
        let ramp = vec![Segment { start: Duration::ZERO, end: secs(10.0), from: 0.0, to: 100.0 }];
        let starts: Vec<Duration> = Schedule::new(Process::Constant, ramp, &[], 0).collect();
        assert_eq!(starts.len(), 500);
        let first_half = starts.iter().filter(|t| **t < secs(5.0)).count();
        assert!((124..=126).contains(&first_half), "{first_half}");
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn steps_change_the_rate_at_their_boundaries() {
        let steps = vec![
            Segment { start: Duration::ZERO, end: secs(2.0), from: 10.0, to: 10.0 },
            Segment { start: secs(2.0), end: secs(3.0), from: 100.0, to: 100.0 },
        ];
        for process in [Process::Constant, Process::Poisson] {
            let starts: Vec<Duration> = Schedule::new(process, steps.clone(), &[], 5).collect();
            let slow = starts.iter().filter(|t| **t < secs(2.0)).count() as f64;
            let fast = starts.len() as f64 - slow;
            assert!(
                (10.0..=30.0).contains(&slow) && (70.0..=130.0).contains(&fast),
                "{process:?}: {slow} then {fast}"
            );
        }
    }

    #[test]
    fn bursts_start_together_between_the_steady_arrivals() {
        let steady = vec![Segment { start: Duration::ZERO, end: secs(1.0), from: 2.0, to: 2.0 }];
        let burst = Burst { at: secs(0.25), count: 40 };
        let starts: Vec<Duration> = Schedule::new(Process::Constant, steady, &[burst], 0).collect();
        assert_eq!(starts.len(), 42);
        assert_eq!(starts[0], Duration::ZERO);
        assert!(starts[1..41].iter().all(|t| *t == secs(0.25)));
        assert_eq!(starts[41], secs(0.5));
    }

    /// Shard `index` of `count` of a plan of these segments: its requests' ids and instants.
    fn shard_of(
        process: Process,
        segments: &[Segment],
        index: u32,
        count: u32,
        seed: u64,
    ) -> Vec<(u64, Duration)> {
        let shard = Shard { index, count };
        let schedule = Schedule::of_shard(process, segments.to_vec(), &[], seed, shard);
        (1u64..).zip(schedule).map(|(local, at)| (shard.id(local), at)).collect()
    }

    #[test]
    fn the_shards_of_a_constant_schedule_are_the_whole_schedule_each_arrival_once() {
        let ramp = vec![
            Segment { start: Duration::ZERO, end: secs(10.0), from: 10.0, to: 100.0 },
            Segment { start: secs(10.0), end: secs(12.0), from: 30.0, to: 30.0 },
        ];
        let whole: Vec<Duration> = Schedule::new(Process::Constant, ramp.clone(), &[], 0).collect();
        let mut shards: Vec<(u64, Duration)> =
            (0..3).flat_map(|index| shard_of(Process::Constant, &ramp, index, 3, 0)).collect();
        shards.sort_unstable_by_key(|(id, _)| *id);
        assert_eq!(shards.len(), whole.len());
        for ((id, at), (expected_id, expected)) in shards.iter().zip((1u64..).zip(&whole)) {
            assert_eq!(*id, expected_id);
            assert_eq!(at, expected, "request {id}");
        }
    }

    #[test]
    fn poisson_shards_draw_apart_and_add_up_to_the_whole_rate() {
        let flat = vec![Segment { start: Duration::ZERO, end: secs(100.0), from: 60.0, to: 60.0 }];
        let shards: Vec<Vec<(u64, Duration)>> =
            (0..4).map(|index| shard_of(Process::Poisson, &flat, index, 4, 9)).collect();
        let total: usize = shards.iter().map(Vec::len).sum();
        assert!((5700..6300).contains(&total), "{total} arrivals in 100 s at 60/s");
        let firsts: std::collections::BTreeSet<Duration> = shards.iter().map(|s| s[0].1).collect();
        assert_eq!(firsts.len(), 4, "each shard its own draws");
        assert_eq!(
            shard_of(Process::Poisson, &flat, 2, 4, 9),
            shards[2],
            "the same (seed, K), the same arrivals"
        );
        assert_ne!(shard_of(Process::Poisson, &flat, 2, 4, 10), shards[2], "another seed, other arrivals");
        let mut ids: Vec<u64> = shards.iter().flatten().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), total, "no id twice across shards");
    }
}
