//! A checked plan played at a time scale ([`crate::speed`], `chaos run --speed F`): every
//! duration it states ÷ F, the load's arrival rates unchanged.
//!
//! Shortened: phases (and so every rate segment), burst instants, the drain, closed-model think
//! times, every fault's stated durations ([`crate::fault::FaultRule::at_speed`]), the mocks'
//! time to first token (their tokens per second × F), the minute of every rate limit, the
//! targets' request timeouts, the built-in client's backoff (it reasons in scenario time), the
//! SLO period (so `budget_spent` reads as it would at full length), and the latency
//! thresholds of expectations (whose text then says so).
//!
//! Refused: a slowdown that stretches the plan's phases past [`MAX_DURATION`] (365 days), the
//! longest a scenario may name and so the longest a plan may last as played
//! ([`Plan::stretch_refusal`]); every other stretched duration stops at
//! [`crate::speed::LONGEST_STRETCH`].
//!
//! Unchanged: arrival rates (per real second: F times fewer requests), burst sizes, token
//! counts, keys, probabilities, the SLO objective, the generator's own `max_lag` and a
//! `command` target's start-up timeout — both about the real machine, not the scenario.

use crate::{
    expect::{Expectation, Metric},
    plan::{Arrivals, Target},
    speed::Speed,
    units::{HumanDuration, MAX_DURATION},
    Plan,
};

impl Plan {
    /// Why this plan should not be played at `speed`, unless the user says they know: a
    /// gateway (a `url` or `command` target) or a real provider (a `url` upstream) runs on its
    /// own clock, so a shortened `retry-after` or timeout changes what it does, not just how
    /// long it takes.
    pub fn real_target_speed_refusal(&self, speed: Speed) -> Option<String> {
        let remote = self.upstreams.iter().find(|upstream| upstream.remote.is_some());
        let kind = match (&self.target, remote) {
            (Target::Url(_), _) => "a `url` target".to_owned(),
            (Target::Command(_), _) => "a `command` target".to_owned(),
            (Target::Builtin(_), Some(upstream)) => format!("the `url` upstream `{}`", upstream.name),
            (Target::Builtin(_), None) => return None,
        };
        (!speed.is_real_time()).then(|| {
            format!(
                "--speed {} with {kind}: a gateway or a real provider runs on its own clock, so a sped-up \
                 plan changes what it does, not only how long it takes (a `retry_after: 121s` becomes 2 s, \
                 which an SDK that gives up above 120 s waits for instead); run at --speed 1, or add \
                 --speed-real-target to accept that",
                speed.factor()
            )
        })
    }

    /// Why this plan cannot be played at `speed`: its phases would last longer than
    /// [`MAX_DURATION`], the longest a plan may last (as a clock, the run's per-second figures
    /// and the user's patience can hold). `validate` and `run` both ask.
    pub fn stretch_refusal(&self, speed: Speed) -> Option<String> {
        let written = self.duration();
        if speed.time(written) <= MAX_DURATION {
            return None;
        }
        let stretched_days = written.as_secs_f64() / speed.factor() / 86_400.0;
        let stretched = if stretched_days < 1e6 {
            format!("{stretched_days:.0} days")
        } else {
            format!("{stretched_days:.1e} days")
        };
        Some(format!(
            "--speed {speed} stretches this plan's {} of phases to about {stretched}; a plan may last at most \
             {} days as played, so the slowest speed for this one is {}",
            HumanDuration(written),
            MAX_DURATION.as_secs() / 86_400,
            slowest_speed(written)
        ))
    }

    /// This plan at `speed` (see the module's rule); at real time, the plan itself.
    pub fn at_speed(mut self, speed: Speed) -> Plan {
        if speed.is_real_time() {
            return self;
        }
        let time = |d| speed.time(d);
        self.speed = Speed::new(self.speed.factor() * speed.factor()).unwrap_or(speed);
        for phase in &mut self.phases {
            let (start, end) = (time(phase.start), time(phase.end()));
            phase.start = start;
            phase.duration = end.saturating_sub(start);
            for rules in &mut phase.faults {
                *rules = rules.iter().map(|rule| rule.at_speed(speed)).collect();
            }
        }
        for upstream in &mut self.upstreams {
            upstream.latency.ttft = time(upstream.latency.ttft);
            upstream.latency.tokens_per_second = speed.per_time(upstream.latency.tokens_per_second);
            upstream.limits = upstream.limits.at_speed(speed);
        }
        match &mut self.target {
            Target::Builtin(builtin) => builtin.timeout = time(builtin.timeout),
            Target::Url(url) => url.timeout = time(url.timeout),
            Target::Command(command) => command.timeout = time(command.timeout),
        }
        match &mut self.load.arrivals {
            Arrivals::Open { segments, bursts, .. } => {
                for segment in segments {
                    (segment.start, segment.end) = (time(segment.start), time(segment.end));
                }
                for burst in bursts {
                    burst.at = time(burst.at);
                }
            }
            Arrivals::Closed { think, .. } => *think = time(*think),
        }
        self.load.drain = time(self.load.drain);
        self.slo.period = time(self.slo.period);
        for expectation in self.expectations.iter_mut().chain(&mut self.halts) {
            scale_threshold(expectation, speed);
        }
        self
    }
}

/// The slowest speed at which phases lasting `written` fit in [`MAX_DURATION`], rounded up to
/// three significant digits and written so that it reads back as a speed at least that fast.
fn slowest_speed(written: std::time::Duration) -> String {
    let exact = written.as_secs_f64() / MAX_DURATION.as_secs_f64();
    let magnitude = exact.log10().floor() as i32;
    let step = 10f64.powi(magnitude - 2);
    let rounded = (exact / step).ceil() * step;
    if magnitude < -6 {
        format!("{rounded:.2e}")
    } else {
        format!("{rounded:.*}", (2 - magnitude).max(0) as usize)
    }
}

/// A latency threshold ÷ the factor, the text saying what it became; other metrics are
/// ratios, counts or money and keep theirs.
fn scale_threshold(expectation: &mut Expectation, speed: Speed) {
    if !matches!(expectation.metric, Metric::Latency { .. }) {
        return;
    }
    let seconds = std::time::Duration::from_secs_f64(expectation.threshold.max(0.0));
    let scaled = speed.time(seconds);
    expectation.threshold = scaled.as_secs_f64();
    expectation.text = format!("{} (÷{speed}: {})", expectation.text, HumanDuration(scaled));
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

    use super::*;
    use crate::fault::FaultAction;

    const SCENARIO: &str = r"
name: scaled
upstreams:
  openai: { mock: openai, latency: { ttft: 300ms, tokens_per_second: 50 }, rate_limit: { rpm: 600 } }
target:
  builtin: { retries: 2, timeout: 30s }
load:
  arrival: { rate: 20/s }
  bursts: [{ at: 9m, requests: 40 }]
  drain: 30s
  request: { model: gpt-4o-mini }
phases:
  - { name: baseline, duration: 1m }
  - name: brownout
    duration: 5m
    arrival: { ramp: [20/s, 40/s] }
    faults:
      openai: [{ status: 429, probability: 30%, retry_after: 60s }, { latency: 15s }]
  - { name: recovery, duration: 7m }
slo: { availability: 99.9%, period: 30d }
expect:
  - p99{phase=brownout} < 3s
  - availability{phase=brownout} >= 99%
";

    fn plans() -> (Plan, Plan) {
        let plan = crate::parse(SCENARIO, Path::new("s.yaml")).unwrap();
        let scaled = plan.clone().at_speed(Speed::new(60.0).unwrap());
        (plan, scaled)
    }

    #[test]
    fn the_timeline_and_everything_on_it_shrinks() {
        let (plan, scaled) = plans();
        assert_eq!(plan.duration(), Duration::from_secs(13 * 60));
        assert_eq!(scaled.duration(), Duration::from_secs(13));
        assert_eq!(scaled.phases[1].start, Duration::from_secs(1));
        assert_eq!(scaled.phases[1].duration, Duration::from_secs(5));
        assert_eq!(
            scaled.phase_ends(),
            vec![Duration::from_secs(1), Duration::from_secs(6), Duration::from_secs(13)]
        );
        assert_eq!(scaled.load.drain, Duration::from_millis(500));
        assert_eq!(scaled.slo.period, Duration::from_secs(12 * 3600));
        assert_eq!(scaled.speed.factor(), 60.0);
        let Arrivals::Open { segments, bursts, .. } = &scaled.load.arrivals else { panic!() };
        assert_eq!(bursts[0].at, Duration::from_secs(9));
        assert_eq!(bursts[0].count, 40, "burst sizes are counts");
        assert_eq!((segments[1].start, segments[1].end), (Duration::from_secs(1), Duration::from_secs(6)));
        assert_eq!((segments[1].from, segments[1].to), (20.0, 40.0), "arrival rates stay per real second");
    }

    #[test]
    fn faults_mocks_and_the_client_run_faster() {
        let (_, scaled) = plans();
        let rules = &scaled.phases[1].faults[0];
        let FaultAction::Status(status) = &rules[0].action else { panic!() };
        assert_eq!(status.retry_after, Some(crate::fault::DelayDistribution::Fixed(Duration::from_secs(1))));
        assert_eq!(rules[0].dose.probability, 0.3);
        let upstream = &scaled.upstreams[0];
        assert_eq!(upstream.latency.ttft, Duration::from_millis(5));
        assert_eq!(upstream.latency.tokens_per_second, 3000.0);
        assert_eq!((upstream.limits.rpm, upstream.limits.minute), (Some(600), Duration::from_secs(1)));
        let Target::Builtin(builtin) = &scaled.target else { panic!() };
        assert_eq!(builtin.timeout, Duration::from_millis(500));
    }

    #[test]
    fn latency_thresholds_shrink_and_say_so_while_ratios_stay() {
        let (_, scaled) = plans();
        assert!((scaled.expectations[0].threshold - 0.05).abs() < 1e-9);
        assert_eq!(scaled.expectations[0].text, "p99{phase=brownout} < 3s (÷60: 50ms)");
        assert_eq!(scaled.expectations[1].threshold, 0.99);
        assert_eq!(scaled.expectations[1].text, "availability{phase=brownout} >= 99%");
    }

    #[test]
    fn real_time_changes_nothing_and_speeds_compose() {
        let (plan, _) = plans();
        let same = plan.clone().at_speed(Speed::REAL_TIME);
        assert_eq!(same.phase_ends(), plan.phase_ends());
        let twice = plan.at_speed(Speed::new(2.0).unwrap()).at_speed(Speed::new(3.0).unwrap());
        assert_eq!(twice.speed.factor(), 6.0);
        assert_eq!(twice.duration(), Duration::from_secs(130));
    }

    #[test]
    fn a_slowdown_past_365_days_is_refused_and_names_the_slowest_speed_that_fits() {
        let (plan, _) = plans();
        let slowest = 13.0 * 60.0 / (365.0 * 86_400.0);
        assert_eq!(plan.stretch_refusal(Speed::new(slowest).unwrap()), None, "exactly 365 days");
        assert_eq!(plan.stretch_refusal(Speed::new(1e300).unwrap()), None);
        let refusal = plan.stretch_refusal(Speed::new(1e-18).unwrap()).expect("refused");
        assert_eq!(
            refusal,
            "--speed 1e-18 stretches this plan's 13m of phases to about 9.0e15 days; a plan may last at \
             most 365 days as played, so the slowest speed for this one is 0.0000248"
        );
        let suggested: f64 = refusal.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(suggested >= slowest && suggested < slowest * 1.01, "{suggested}");
        assert!(plan.stretch_refusal(Speed::new(slowest * 0.999).unwrap()).is_some());
        assert_eq!(slowest_speed(Duration::from_nanos(1)), "3.18e-17");
    }

    #[test]
    fn a_real_provider_behind_the_built_in_client_refuses_a_speed_too() {
        let (mut plan, _) = plans();
        let speed = Speed::new(60.0).unwrap();
        assert_eq!(plan.real_target_speed_refusal(speed), None, "mocks and the built-in client");
        plan.upstreams[0].remote =
            Some(crate::plan::RemoteUpstream { url: "https://api.openai.com".into(), key_env: None });
        let refusal = plan.real_target_speed_refusal(speed).expect("refused");
        assert!(refusal.starts_with("--speed 60 with the `url` upstream `openai`: "), "{refusal}");
        assert_eq!(plan.real_target_speed_refusal(Speed::new(1.0).unwrap()), None, "real time");
    }
}
