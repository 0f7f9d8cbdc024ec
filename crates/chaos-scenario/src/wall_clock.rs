//! Phases at wall-clock times, for game days run from cron or a CI schedule: `at: "09:00"` on a
//! phase starts it at the next 09:00, UTC unless the time carries an offset (`"09:00+02:00"`,
//! `"14:30:15Z"`). On the first phase, the run waits for it (mocks, interposers and a `command`
//! target are up first); on a later one, the phase before it lasts until then, so that phase
//! states no `duration` of its own. The times are resolved when the run starts
//! ([`Plan::anchored`]): each `at` is the next such time after the previous phase started.

use std::{str::FromStr, time::Duration};

use time::{OffsetDateTime, Time, UtcOffset};

use super::{plan::Arrivals, Plan};

/// A time of day with its offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallTime {
    pub time: Time,
    pub offset: UtcOffset,
}

impl FromStr for WallTime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            format!("invalid time `{text}`: expected `HH:MM` or `HH:MM:SS`, UTC unless it ends in `Z` or an offset like `+02:00`")
        };
        let (clock, offset) = match text.find(['+', '-']) {
            Some(at) => (&text[..at], parse_offset(&text[at..]).ok_or_else(invalid)?),
            None => (text.strip_suffix('Z').unwrap_or(text), UtcOffset::UTC),
        };
        let parts: Vec<u8> = clock
            .split(':')
            .map(|part| part.parse::<u8>().map_err(|_| invalid()))
            .collect::<Result<_, _>>()?;
        let (hour, minute, second) = match parts[..] {
            [hour, minute] => (hour, minute, 0),
            [hour, minute, second] => (hour, minute, second),
            _ => return Err(invalid()),
        };
        let time = Time::from_hms(hour, minute, second).map_err(|_| invalid())?;
        Ok(WallTime { time, offset })
    }
}

/// `+02:00` or `-05:30`.
fn parse_offset(text: &str) -> Option<UtcOffset> {
    let sign: i8 = if text.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = text[1..].split_once(':')?;
    UtcOffset::from_hms(sign * hours.parse::<i8>().ok()?, sign * minutes.parse::<i8>().ok()?, 0).ok()
}

impl WallTime {
    /// The first moment at this time of day at or after `after`.
    pub fn next_at_or_after(&self, after: OffsetDateTime) -> OffsetDateTime {
        let local = after.to_offset(self.offset);
        let today = local.replace_time(self.time);
        if today >= local {
            today
        } else {
            today + time::Duration::days(1)
        }
    }
}

impl Plan {
    /// This plan with its phases' `at` times resolved against `now`: the first phase starts at
    /// its `at` (or now), each later `at` is the next such time after the previous phase
    /// started, and the phase before it lasts until then (its rate segment with it). Without
    /// any `at`, the plan itself.
    pub fn anchored(mut self, now: OffsetDateTime) -> Plan {
        if self.phases.iter().all(|phase| phase.at.is_none()) {
            return self;
        }
        let first = self.phases[0].at.map_or(now, |at| at.next_at_or_after(now));
        let mut wall = first;
        let mut offset = Duration::ZERO;
        for index in 0..self.phases.len() {
            if let Some(next) = self.phases.get(index + 1).and_then(|phase| phase.at) {
                let next_start = next.next_at_or_after(wall + time::Duration::SECOND);
                self.phases[index].duration =
                    Duration::try_from(next_start - wall).unwrap_or(Duration::from_secs(1));
            }
            let phase = &mut self.phases[index];
            phase.start = offset;
            offset += phase.duration;
            wall += phase.duration;
        }
        if let Arrivals::Open { segments, .. } = &mut self.load.arrivals {
            for (segment, phase) in segments.iter_mut().zip(&self.phases) {
                (segment.start, segment.end) = (phase.start, phase.end());
            }
        }
        self.starts_at = (first > now).then_some(first);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(text: &str) -> WallTime {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn times_read_as_utc_unless_they_carry_an_offset() {
        assert_eq!(at("09:00"), WallTime { time: Time::from_hms(9, 0, 0).unwrap(), offset: UtcOffset::UTC });
        assert_eq!(at("14:30:15Z").time, Time::from_hms(14, 30, 15).unwrap());
        assert_eq!(at("09:00+02:00").offset, UtcOffset::from_hms(2, 0, 0).unwrap());
        assert_eq!(at("09:00-05:30").offset, UtcOffset::from_hms(-5, -30, 0).unwrap());
        for bad in ["25:00", "9", "09:00:00:00", "nine", "09:00+2", "09:60"] {
            assert!(bad.parse::<WallTime>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_next_time_is_today_or_tomorrow() {
        let now = datetime!(2026-11-22 08:59:30 UTC);
        assert_eq!(at("09:00").next_at_or_after(now), datetime!(2026-11-22 09:00 UTC));
        assert_eq!(at("08:00").next_at_or_after(now), datetime!(2026-11-23 08:00 UTC));
        assert_eq!(at("09:00+02:00").next_at_or_after(now), datetime!(2026-11-23 07:00 UTC));
    }

    #[test]
    fn phases_stretch_to_meet_the_next_phases_time() {
        let phases =
            "  - { name: warm, at: \"08:55\" }\n  - { name: spike, at: \"09:00\", duration: 10m }\n  \
                      - { name: after, duration: 5m }";
        let plan = crate::test_support::plan(phases, "").anchored(datetime!(2026-11-22 08:50 UTC));
        let timings: Vec<(u64, u64)> =
            plan.phases.iter().map(|p| (p.start.as_secs(), p.duration.as_secs())).collect();
        assert_eq!(timings, [(0, 300), (300, 600), (900, 300)]);
        assert_eq!(plan.starts_at, Some(datetime!(2026-11-22 08:55 UTC)));
        let Arrivals::Open { segments, .. } = &plan.load.arrivals else { panic!("open arrivals") };
        assert_eq!((segments[1].start.as_secs(), segments[1].end.as_secs()), (300, 900));
    }
}
