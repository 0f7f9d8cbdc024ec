//! One shard of a scenario's load (`--shard K/N`): N generators, each on its own machine or
//! pod, together play the plan's arrivals once, as independent samples.
//!
//! Shard K of N keeps the plan whole but its load, played at 1/N of the plan's rate (the
//! schedule's part, `load::schedule`): a Poisson process draws from a stream of its own
//! (seeded from the scenario's seed and K), so the N shards' arrivals add up to the plan's
//! Poisson process, since a sum of independent Poisson processes is one; a constant process
//! keeps every N-th of the plan's arrivals, starting at the K-th, so the N shards' arrivals
//! are exactly the plan's. Bursts, closed-model users and the in-flight limits are split here
//! so the shares add up exactly (the remainder spread one by one). Logical request ids are interleaved the same way (shard K's i-th request is the
//! plan's `N·(i-1) + K + 1`-th), so ids never meet across shards and `chaos merge` can add the
//! shards' tallies as one run's.

use std::{fmt, str::FromStr};

use crate::plan::{Arrivals, Plan};

/// The most shards one plan may be split into.
pub const MOST_SHARDS: u32 = 10_000;

/// Shard `index` (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole load: one shard of one.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this is all of the load.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// This shard's part of `total` things, the `turn`-th split of several: the remainder
    /// goes one each to the shards after `turn`, so that successive splits even out.
    pub fn share(self, total: u64, turn: u64) -> u64 {
        let (count, index) = (u64::from(self.count), u64::from(self.index));
        let extra = (index + count - turn % count) % count < total % count;
        total / count + u64::from(extra)
    }

    /// The seed of this shard's own random streams, from the scenario's: the whole load's is
    /// the scenario's own.
    pub fn seed(self, seed: u64) -> u64 {
        match self.is_whole() {
            true => seed,
            false => seed ^ (u64::from(self.index) + 1).wrapping_mul(0xA076_1D64_78BD_642F).rotate_left(17),
        }
    }

    /// The plan's id of this shard's `local`-th logical request (from 1).
    pub fn id(self, local: u64) -> u64 {
        local
            .saturating_sub(1)
            .saturating_mul(u64::from(self.count))
            .saturating_add(u64::from(self.index) + 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, K from 0 to N-1.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || format!("`{text}` is not K/N (shard K, from 0, of N: `0/4` … `3/4`)");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let index: u32 = index.trim().parse().map_err(|_| usage())?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 || count > MOST_SHARDS {
            return Err(format!("`{text}`: the number of shards must be from 1 to {MOST_SHARDS}"));
        }
        if index >= count {
            return Err(format!("`{text}`: shards of {count} are numbered 0 to {}", count - 1));
        }
        Ok(Shard { index, count })
    }
}

impl Plan {
    /// The plan as shard `shard` plays it: its part of the bursts, users, limits and spend
    /// guard (its schedule plays 1/N of the rate), everything else whole. Refused when a closed
    /// model has fewer users than shards, or the in-flight limits fewer than one each (a shard
    /// would send nothing).
    pub fn sharded(mut self, shard: Shard) -> Result<Plan, String> {
        if shard.is_whole() {
            return Ok(self);
        }
        let limits = self.load.limits;
        let fewest = limits.connections.unwrap_or(usize::MAX).min(limits.max_in_flight);
        if fewest < shard.count as usize {
            return Err(format!(
                "`connections`/`max_in_flight` of {fewest} cannot be spread over {} shards: each needs at least one",
                shard.count
            ));
        }
        // N machines each guard their own part of the budget, and each of their mocks takes its
        // part of the provider's rate limits, so that 1/N of the load meets them as the whole did.
        self.max_spend = self.max_spend.map(|limit| limit / f64::from(shard.count));
        for upstream in &mut self.upstreams {
            let part = |limit: u64| shard.share(limit, 0).max(1);
            upstream.limits.rpm = upstream.limits.rpm.map(part);
            upstream.limits.tpm = upstream.limits.tpm.map(part);
        }
        match &mut self.load.arrivals {
            Arrivals::Open { bursts, .. } => {
                for (turn, burst) in bursts.iter_mut().enumerate() {
                    burst.count = shard.share(u64::from(burst.count), turn as u64) as u32;
                }
                bursts.retain(|burst| burst.count > 0);
            }
            Arrivals::Closed { users, .. } => {
                if *users < shard.count {
                    return Err(format!(
                        "the scenario's {users} closed-model user(s) cannot be spread over {} shards: \
                         use at most {users}",
                        shard.count
                    ));
                }
                *users = shard.share(u64::from(*users), 0) as u32;
            }
        }
        self.load.limits = self.load.limits.share(shard.index as usize, shard.count as usize);
        self.shard = shard;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan with one mock upstream, one 2 s phase and this `load:`.
    fn scenario(load: &str) -> Plan {
        let yaml = format!(
            "name: s\nupstreams:\n  openai: {{ mock: openai }}\nload: {load}\nphases:\n  - {{ name: p, duration: 2s }}\n"
        );
        crate::parse(&yaml, std::path::Path::new("s.yaml")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_shares_of_every_split_add_up_to_the_whole_and_differ_by_at_most_one() {
        for count in [1u32, 2, 3, 7] {
            for total in [0u64, 1, 2, 5, 40, 101] {
                for turn in 0..4 {
                    let shares: Vec<u64> =
                        (0..count).map(|index| Shard { index, count }.share(total, turn)).collect();
                    assert_eq!(shares.iter().sum::<u64>(), total, "{total} over {count}, turn {turn}");
                    let (most, least) = (shares.iter().max().unwrap(), shares.iter().min().unwrap());
                    assert!(most - least <= 1, "{shares:?}");
                }
            }
        }
        let shard = Shard { index: 0, count: 3 };
        let firsts: Vec<u64> = (0..3).map(|turn| shard.share(1, turn)).collect();
        assert_eq!(firsts, [1, 0, 0], "one thing goes to the turn's shard");
        let second = Shard { index: 1, count: 3 };
        assert_eq!((0..3).map(|turn| second.share(1, turn)).collect::<Vec<_>>(), [0, 1, 0]);
    }

    #[test]
    fn ids_of_all_shards_are_the_plans_ids_each_once() {
        let count = 4;
        let mut ids: Vec<u64> = (0..count)
            .flat_map(|index| (1..=25).map(move |local| Shard { index, count }.id(local)))
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=100).collect::<Vec<_>>());
        assert_eq!(Shard::WHOLE.id(7), 7);
    }

    #[test]
    fn shards_draw_from_streams_of_their_own_and_the_whole_from_the_scenarios() {
        let seeds: std::collections::BTreeSet<u64> =
            (0..64).map(|index| Shard { index, count: 64 }.seed(42)).collect();
        assert_eq!(seeds.len(), 64);
        assert!(!seeds.contains(&42));
        assert_eq!(Shard::WHOLE.seed(42), 42);
    }

    #[test]
    fn a_shard_is_written_k_of_n_and_anything_else_is_refused_with_the_form() {
        assert_eq!("3/4".parse::<Shard>(), Ok(Shard { index: 3, count: 4 }));
        assert_eq!("0/1".parse::<Shard>(), Ok(Shard::WHOLE));
        for (text, says) in [
            ("4/4", "numbered 0 to 3"),
            ("1/0", "from 1 to 10000"),
            ("0/10001", "from 1 to 10000"),
            ("2", "is not K/N"),
            ("-1/4", "is not K/N"),
            ("a/b", "is not K/N"),
        ] {
            let error = text.parse::<Shard>().unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn a_shard_plays_its_part_of_the_bursts_and_limits() {
        let plan = scenario(
            "{ request: { model: m }, arrival: { rate: 30/s }, max_in_flight: 10, connections: 5, bursts: [{ at: 1s, requests: 4 }] }",
        );
        let shards: Vec<Plan> =
            (0..3).map(|index| plan.clone().sharded(Shard { index, count: 3 }).unwrap()).collect();
        let bursts: u32 = shards
            .iter()
            .map(|p| match &p.load.arrivals {
                Arrivals::Open { bursts, .. } => bursts.iter().map(|b| b.count).sum::<u32>(),
                Arrivals::Closed { .. } => 0,
            })
            .sum();
        assert_eq!(bursts, 4);
        assert_eq!(shards.iter().map(|p| p.load.limits.max_in_flight).sum::<usize>(), 10);
        assert_eq!(shards.iter().filter_map(|p| p.load.limits.connections).sum::<usize>(), 5);
        assert_eq!(shards[2].shard, Shard { index: 2, count: 3 });
        let error = plan.clone().sharded(Shard { index: 0, count: 6 }).unwrap_err();
        assert!(error.contains("of 5 cannot be spread over 6 shards"), "{error}");
    }

    #[test]
    fn a_closed_model_with_fewer_users_than_shards_is_refused() {
        let plan = scenario("{ request: { model: m }, arrival: { users: 3 } }");
        let error = plan.clone().sharded(Shard { index: 0, count: 4 }).unwrap_err();
        assert!(error.contains("3 closed-model user(s) cannot be spread over 4 shards"), "{error}");
        let users: u32 = (0..2)
            .map(|index| match plan.clone().sharded(Shard { index, count: 2 }).unwrap().load.arrivals {
                Arrivals::Closed { users, .. } => users,
                Arrivals::Open { .. } => 0,
            })
            .sum();
        assert_eq!(users, 3);
    }
}
