//! The rubric of the standard suite, version [`RUBRIC_VERSION`]: each dimension, whether it is
//! critical, the scenario that grades it, its thresholds and how its figure is read from that
//! scenario's run. `docs/scorecard.md` states the same table with the facts each threshold
//! rests on; a change here is a new rubric version.

use std::collections::BTreeMap;

use super::{
    evidence::GradedRun,
    grade::{Better, Grade, Thresholds},
    DimensionScore,
};

/// The rubric's version, recorded in every scorecard.
pub const RUBRIC_VERSION: u32 = 3;

/// What the target file says that thresholds depend on.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The gateway's timeout for one upstream attempt, seconds.
    pub timeout_s: f64,
    /// Retries per upstream (hop) the gateway is configured for.
    pub retries: u32,
    /// Upstreams in its chain: the primary and its fallbacks.
    pub hops: u32,
    /// Whether one of them speaks Anthropic's API (the 529 dimension needs one).
    pub anthropic_upstream: bool,
    /// The keys the gateway pools for its primary (key exhaustion needs two or more).
    pub primary_keys: u32,
}

/// A figure read from runs, or why it could not be.
struct Reading {
    figure: Result<f64, String>,
    /// A grade the figure's thresholds cannot give: an F for a failure beside the figure.
    forced: Option<(Grade, String)>,
    /// The scenario whose run it came from.
    scenario: &'static str,
    words: String,
    /// Why the dimension does not apply to this target: it is not graded.
    not_applicable: Option<String>,
}

impl Reading {
    fn of(scenario: &'static str, figure: Result<f64, String>, words: impl Into<String>) -> Self {
        Reading { figure, forced: None, scenario, words: words.into(), not_applicable: None }
    }
}

/// The runs of a suite, by scenario id.
pub type Runs<'a> = BTreeMap<&'static str, GradedRun<'a>>;

type Read = fn(&Runs, &Context) -> Reading;

/// One row of the rubric.
pub struct Dimension {
    pub id: &'static str,
    pub title: &'static str,
    pub critical: bool,
    pub unit: &'static str,
    thresholds: fn(&Context) -> Thresholds,
    /// `None`: the suite has no scenario for it yet.
    read: Option<Read>,
}

impl Dimension {
    /// Which way its figure improves (`chaos scorecard compare` orders two figures by it).
    pub fn better(&self) -> Better {
        (self.thresholds)(&Context {
            timeout_s: 1.0,
            retries: 0,
            hops: 1,
            anthropic_upstream: true,
            primary_keys: 1,
        })
        .better
    }
}

const fn fixed(better: Better, bounds: [f64; 4]) -> Thresholds {
    Thresholds { better, bounds }
}

/// The dimensions, in the scorecard's order.
pub const DIMENSIONS: &[Dimension] = &[
    Dimension {
        id: "retry_after",
        title: "429 with retry-after: retries wait as asked",
        critical: true,
        unit: "%",
        thresholds: |_| fixed(Better::Higher, [99.0, 95.0, 80.0, 50.0]),
        read: Some(retry_after),
    },
    Dimension {
        id: "quota",
        title: "429 insufficient_quota: not retried at the primary",
        critical: true,
        unit: "attempts/request",
        thresholds: |_| fixed(Better::Lower, [1.02, 1.02, 1.02, 1.02]),
        read: Some(quota),
    },
    Dimension {
        id: "brownout",
        title: "5xx brownout (30 % 503): requests still answered",
        critical: true,
        unit: "%",
        thresholds: |_| fixed(Better::Higher, [99.9, 99.0, 95.0, 90.0]),
        read: Some(brownout),
    },
    Dimension {
        id: "hard_down",
        title: "primary hard down: time to fail over (p99)",
        critical: true,
        unit: "s",
        thresholds: |_| fixed(Better::Lower, [2.0, 5.0, 10.0, 30.0]),
        read: Some(hard_down),
    },
    Dimension {
        id: "recovery",
        title: "recovery: time back to the primary after it returns",
        critical: false,
        unit: "s",
        thresholds: |_| fixed(Better::Lower, [5.0, 15.0, 30.0, 60.0]),
        read: Some(recovery),
    },
    Dimension {
        id: "slow_ttft",
        title: "first token slower than the timeout: p99 latency",
        critical: false,
        unit: "s",
        thresholds: timeout_multiples,
        read: Some(slow_ttft),
    },
    Dimension {
        id: "stream_cut",
        title: "stream cut without [DONE]: requests paid twice",
        critical: false,
        unit: "%",
        thresholds: |_| fixed(Better::Lower, [1.0, 5.0, 10.0, 25.0]),
        read: Some(stream_cut),
    },
    Dimension {
        id: "circuit_breaking",
        title: "circuit breaking: primary attempts per request, late in an outage",
        critical: false,
        unit: "attempts/request",
        thresholds: |_| fixed(Better::Lower, [0.1, 0.5, 1.0, 2.0]),
        read: Some(circuit_breaking),
    },
    Dimension {
        id: "chain_retries",
        title: "bounded retries across the chain: attempts ÷ (1 + retries) × hops",
        critical: true,
        unit: "× bound",
        thresholds: |_| fixed(Better::Lower, [1.0, 1.25, 1.5, 2.0]),
        read: Some(chain_retries),
    },
    Dimension {
        id: "cost",
        title: "cost multiplier: the worst fault phase's cost per request ÷ baseline",
        critical: true,
        unit: "×",
        thresholds: |_| fixed(Better::Lower, [1.1, 1.25, 1.5, 2.0]),
        read: Some(cost),
    },
    Dimension {
        id: "overloaded_529",
        title: "529 overloaded (Anthropic): answered as a chain that retries it would",
        critical: false,
        unit: "× expected",
        thresholds: |_| fixed(Better::Higher, [0.95, 0.85, 0.75, 0.65]),
        read: Some(overloaded_529),
    },
    Dimension {
        id: "stream_stall",
        title: "stream stalled mid-answer: p99 time for a request to end",
        critical: false,
        unit: "s",
        thresholds: |context| {
            let t = context.timeout_s;
            fixed(Better::Lower, [t + 2.0, 1.5 * t + 2.0, 2.0 * t + 2.0, 2.5 * t + 2.0])
        },
        read: Some(stream_stall),
    },
    Dimension {
        id: "zone_loss",
        title: "zone lost (refused, then blackholed): p99 latency",
        critical: false,
        unit: "s",
        thresholds: timeout_multiples,
        read: Some(zone_loss),
    },
    Dimension {
        id: "key_exhaustion",
        title: "one pooled key out of quota: requests the primary still answers",
        critical: false,
        unit: "%",
        thresholds: |_| fixed(Better::Higher, [99.0, 95.0, 80.0, 50.0]),
        read: Some(key_exhaustion),
    },
];

/// Bounds in the gateway's timeout `t`: one timeout then the fallback (`t + 2 s`) is an A, each
/// further timeout spent a letter less.
fn timeout_multiples(context: &Context) -> Thresholds {
    let t = context.timeout_s;
    fixed(Better::Lower, [t + 2.0, 2.0 * t + 2.0, 3.0 * t + 3.0, 4.0 * t + 4.0])
}

/// The scenario ids the suite must run to grade every dimension that has a reading.
pub const SCENARIOS: &[&str] = &[
    "retry_after",
    "quota",
    "brownout",
    "hard_down",
    "slow_ttft",
    "stream_cut",
    "circuit_breaking",
    "chain_retries",
    "stream_stall",
    "zone_loss",
    "overloaded_529",
    "key_exhaustion",
];

/// The phase before any fault, every scenario's first.
pub const BASELINE_PHASE: &str = "baseline";
/// The fault phase every scenario of the suite names so; circuit breaking's later part.
pub const FAULT_PHASE: &str = "fault";
pub const LATE_PHASE: &str = "fault-late";
pub const RECOVERY_PHASE: &str = "recovery";

/// Grades every dimension from the suite's runs.
pub fn grade_all(runs: &Runs, context: &Context) -> Vec<DimensionScore> {
    DIMENSIONS.iter().map(|dimension| grade_one(dimension, runs, context)).collect()
}

fn grade_one(dimension: &Dimension, runs: &Runs, context: &Context) -> DimensionScore {
    let mut score = DimensionScore {
        id: dimension.id.to_owned(),
        title: dimension.title.to_owned(),
        critical: dimension.critical,
        grade: Grade::NotGraded,
        figure: None,
        unit: dimension.unit.to_owned(),
        threshold: String::new(),
        reason: "not yet graded: the suite has no scenario for it yet".to_owned(),
        scenario: None,
        report: None,
        run_verdict: None,
        cost_multiplier: None,
        evidence: Vec::new(),
    };
    let Some(read) = dimension.read else { return score };
    let reading = read(runs, context);
    if let Some(why) = reading.not_applicable {
        score.reason = format!("not graded: {why}");
        return score;
    }
    if let Some(run) = runs.get(reading.scenario) {
        score.scenario = Some(run.results.scenario.name.clone());
        score.report = Some(run.report.to_owned());
        score.run_verdict = Some(format!("{:?}", run.results.verdict).to_lowercase());
        score.cost_multiplier = run.phase(FAULT_PHASE).ok().and_then(|phase| phase.cost_multiplier);
        score.evidence = run.series();
    }
    let thresholds = (dimension.thresholds)(context);
    let unusable = runs.get(reading.scenario).map_or(Some("its scenario did not run".to_owned()), |run| {
        use crate::results::Verdict;
        matches!(run.results.verdict, Verdict::Invalid | Verdict::Interrupted | Verdict::Halted)
            .then(|| format!("its run's verdict was {:?}", run.results.verdict).to_lowercase())
            .or_else(|| run.baseline_failed())
    });
    match (unusable, reading.figure) {
        (Some(why), _) | (None, Err(why)) => {
            score.grade = Grade::Inconclusive;
            score.reason = format!("inconclusive: {why}");
        }
        (None, Ok(figure)) => {
            let (grade, met) = thresholds.grade(figure);
            score.figure = Some(figure);
            score.grade = grade;
            score.threshold = threshold_words(&thresholds, grade, met, dimension.unit);
            score.reason = reading.words;
            if let Some((forced, why)) = reading.forced {
                score.grade = score.grade.max(forced);
                score.reason = format!("{why}; {}", score.reason);
            }
        }
    }
    score
}

/// `≤ 2 s → A`, or for an F the D bound it missed.
fn threshold_words(thresholds: &Thresholds, grade: Grade, met: Option<f64>, unit: &str) -> String {
    let sign = match thresholds.better {
        Better::Higher => "≥",
        Better::Lower => "≤",
    };
    match (grade, met) {
        (Grade::F, _) | (_, None) => {
            let d = thresholds.bound_of(Grade::D).unwrap_or(f64::NAN);
            format!("missed {sign} {} {unit} (D) → F", number(d))
        }
        (grade, Some(bound)) => format!("{sign} {} {unit} → {}", number(bound), grade.label()),
    }
}

/// A figure in few digits: `99.9`, `1.02`, `2`.
pub fn number(value: f64) -> String {
    if value.is_infinite() {
        return "∞".to_owned();
    }
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn run<'a>(runs: &'a Runs, id: &'static str) -> Result<&'a GradedRun<'a>, String> {
    runs.get(id).ok_or_else(|| "its scenario did not run".to_owned())
}

fn retry_after(runs: &Runs, _: &Context) -> Reading {
    let figure = run(runs, "retry_after").and_then(|run| {
        let phase = run.phase(FAULT_PHASE)?;
        match phase.retry_after_compliance {
            Some(share) => Ok(share * 100.0),
            None if run.primary_attempts_per_request(phase) <= 1.0 => Ok(100.0),
            None => Err("no retry was asked to wait".to_owned()),
        }
    });
    let words = match &figure {
        Ok(share) => {
            format!("{}% of the retries asked to wait waited at least the retry-after", number(*share))
        }
        Err(_) => String::new(),
    };
    Reading::of("retry_after", figure, words)
}

fn quota(runs: &Runs, _: &Context) -> Reading {
    let figure =
        run(runs, "quota").and_then(|run| Ok(run.faulted_attempts_per_request(run.phase(FAULT_PHASE)?)));
    let words = match &figure {
        Ok(per) if *per > 1.02 => format!(
            "{} attempts a request at a primary that answered insufficient_quota: retried",
            number(*per)
        ),
        Ok(per) => format!("{} attempts a request at the primary: a quota 429 was not retried", number(*per)),
        Err(_) => String::new(),
    };
    Reading::of("quota", figure, words)
}

fn brownout(runs: &Runs, _: &Context) -> Reading {
    let figure = run(runs, "brownout").and_then(|run| {
        run.phase(FAULT_PHASE)?.availability.map(|a| a * 100.0).ok_or_else(|| "no availability".to_owned())
    });
    let words = figure
        .as_ref()
        .map(|a| format!("{}% of requests answered while 30 % of the primary's were 503s", number(*a)))
        .unwrap_or_default();
    Reading::of("brownout", figure, words)
}

fn hard_down(runs: &Runs, _: &Context) -> Reading {
    let mut forced = None;
    let figure = run(runs, "hard_down").and_then(|run| {
        let phase = run.phase(FAULT_PHASE)?;
        if phase.availability.unwrap_or(0.0) < 0.99 {
            forced = Some((
                Grade::F,
                format!(
                    "only {}% answered while a fallback was up",
                    number(phase.availability.unwrap_or(0.0) * 100.0)
                ),
            ));
        }
        match &phase.failover_ms {
            Some(failover) if phase.failovers > 0 => Ok(run.scenario_seconds(failover.p99 / 1000.0)),
            _ => Ok(f64::INFINITY),
        }
    });
    let words = match &figure {
        Ok(s) if s.is_infinite() => "never failed over to a fallback".to_owned(),
        Ok(s) => format!("p99 {} s from the primary's first failure to the fallback", number(*s)),
        Err(_) => String::new(),
    };
    Reading { forced, ..Reading::of("hard_down", figure, words) }
}

fn recovery(runs: &Runs, _: &Context) -> Reading {
    let figure = run(runs, "hard_down").and_then(|run| {
        let phase = run.phase(RECOVERY_PHASE)?;
        match (phase.transitions.recovered, phase.transitions.time_to_recover_s) {
            (Some(true), Some(s)) => Ok(run.scenario_seconds(s)),
            (Some(false), _) => Ok(f64::INFINITY),
            _ => Err("the recovery phase was not measured".to_owned()),
        }
    });
    let words = match &figure {
        Ok(s) if s.is_infinite() => "never returned to the baseline".to_owned(),
        Ok(s) => format!("back at the baseline's success and primary share {} s after the primary returned (1 s wall resolution)", number(*s)),
        Err(_) => String::new(),
    };
    Reading::of("hard_down", figure, words)
}

fn slow_ttft(runs: &Runs, context: &Context) -> Reading {
    let mut forced = None;
    let figure = run(runs, "slow_ttft").and_then(|run| {
        let phase = run.phase(FAULT_PHASE)?;
        let availability = phase.availability.unwrap_or(0.0);
        if availability < 0.95 {
            forced = Some((Grade::F, format!("only {}% answered", number(availability * 100.0))));
        }
        Ok(run.p99_scenario_s(phase).ok_or("no answer had a latency")?)
    });
    let words = figure
        .as_ref()
        .map(|s| {
            format!(
                "p99 {} s with the primary's first token 2 × the {} s timeout late",
                number(*s),
                number(context.timeout_s)
            )
        })
        .unwrap_or_default();
    Reading { forced, ..Reading::of("slow_ttft", figure, words) }
}

fn stream_cut(runs: &Runs, _: &Context) -> Reading {
    let figure = run(runs, "stream_cut")
        .and_then(|run| Ok(run.phase(FAULT_PHASE)?.duplicate_rate.unwrap_or(0.0) * 100.0));
    let words = figure
        .as_ref()
        .map(|share| format!("{}% of requests had their generation paid for more than once", number(*share)))
        .unwrap_or_default();
    Reading::of("stream_cut", figure, words)
}

fn circuit_breaking(runs: &Runs, _: &Context) -> Reading {
    let figure = run(runs, "circuit_breaking")
        .and_then(|run| Ok(run.faulted_attempts_per_request(run.phase(LATE_PHASE)?)));
    let words = figure
        .as_ref()
        .map(|per| {
            format!(
                "{} attempts a request still went to the dead primary in the outage's later part",
                number(*per)
            )
        })
        .unwrap_or_default();
    Reading::of("circuit_breaking", figure, words)
}

fn chain_retries(runs: &Runs, context: &Context) -> Reading {
    let bound = f64::from((1 + context.retries) * context.hops.max(1));
    let figure = run(runs, "chain_retries").and_then(|run| {
        let amplification =
            run.phase(FAULT_PHASE)?.retry_amplification.ok_or("no attempt reached an interposer")?;
        Ok(amplification / bound)
    });
    let words = figure
        .as_ref()
        .map(|ratio| {
            format!(
                "{} attempts a request with every upstream down, against a bound of {}",
                number(ratio * bound),
                number(bound)
            )
        })
        .unwrap_or_default();
    Reading::of("chain_retries", figure, words)
}

fn cost(runs: &Runs, _: &Context) -> Reading {
    let worst = runs
        .iter()
        .filter(|(_, run)| run.baseline_failed().is_none())
        .filter_map(|(id, run)| Some((*id, run.phase(FAULT_PHASE).ok()?.cost_multiplier?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match worst {
        Some((id, multiplier)) => Reading::of(
            id,
            Ok(multiplier),
            format!("{}× the baseline's cost per request, at worst (in {id})", number(multiplier)),
        ),
        None => Reading::of("retry_after", Err("no fault phase had a cost multiplier".to_owned()), ""),
    }
}

fn overloaded_529(runs: &Runs, context: &Context) -> Reading {
    if !context.anthropic_upstream {
        let why = "the target fronts no Anthropic upstream".to_owned();
        return Reading {
            not_applicable: Some(why),
            ..Reading::of("overloaded_529", Err(String::new()), "")
        };
    }
    // Each attempt at the overloaded upstream is a 529 with odds ½: a chain that retries it
    // `retries` times answers 1 − ½^(1 + retries) of the requests; one that does not, ½.
    let expected = 1.0 - 0.5f64.powi(1 + context.retries as i32);
    let figure = run(runs, "overloaded_529").and_then(|run| {
        let availability = run.phase(FAULT_PHASE)?.availability.ok_or("no availability")?;
        Ok(availability / expected)
    });
    let words = figure
        .as_ref()
        .map(|ratio| {
            format!(
                "{}% answered against the {}% a chain retrying a 529 {} times answers",
                number(ratio * expected * 100.0),
                number(expected * 100.0),
                context.retries
            )
        })
        .unwrap_or_default();
    Reading::of("overloaded_529", figure, words)
}

fn key_exhaustion(runs: &Runs, context: &Context) -> Reading {
    if context.primary_keys < 2 {
        let why = "the target pools no keys for its primary (`keys:` on it in the target file)".to_owned();
        return Reading {
            not_applicable: Some(why),
            ..Reading::of("key_exhaustion", Err(String::new()), "")
        };
    }
    let figure = run(runs, "key_exhaustion").and_then(|run| {
        let phase = run.phase(FAULT_PHASE)?;
        let by_primary = phase.served_by.get(run.primary).copied().unwrap_or(0);
        Ok(100.0 * by_primary as f64 / phase.logical_requests.max(1) as f64)
    });
    let words = figure
        .as_ref()
        .map(|share| {
            format!(
                "{}% of requests answered by the primary with one of its {} keys out of quota",
                number(*share),
                context.primary_keys
            )
        })
        .unwrap_or_default();
    Reading::of("key_exhaustion", figure, words)
}

fn stream_stall(runs: &Runs, context: &Context) -> Reading {
    let figure = run(runs, "stream_stall")
        .and_then(|run| Ok(run.p99_scenario_s(run.phase(FAULT_PHASE)?).ok_or("no request ended")?));
    let words = figure
        .as_ref()
        .map(|s| {
            format!(
                "p99 {} s for a request to end, good or bad, with half the streams stalled {} s",
                number(*s),
                number(3.0 * context.timeout_s)
            )
        })
        .unwrap_or_default();
    Reading::of("stream_stall", figure, words)
}

fn zone_loss(runs: &Runs, _: &Context) -> Reading {
    let mut forced = None;
    let figure = run(runs, "zone_loss").and_then(|run| {
        let mut worst: f64 = 0.0;
        for name in [FAULT_PHASE, LATE_PHASE] {
            let phase = run.phase(name)?;
            let availability = phase.availability.unwrap_or(0.0);
            if availability < 0.99 && forced.is_none() {
                let why = format!(
                    "only {}% answered in `{name}` while a fallback was up",
                    number(availability * 100.0)
                );
                forced = Some((Grade::F, why));
            }
            worst = worst.max(run.p99_scenario_s(phase).ok_or("no request ended")?);
        }
        Ok(worst)
    });
    let words = figure
        .as_ref()
        .map(|s| {
            format!("p99 {} s with the primary's zone refusing, then blackholed (the worse part)", number(*s))
        })
        .unwrap_or_default();
    Reading { forced, ..Reading::of("zone_loss", figure, words) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_with_a_reading_names_a_scenario_of_the_suite_or_all_of_them() {
        let read: Vec<_> = DIMENSIONS.iter().filter(|d| d.read.is_some()).map(|d| d.id).collect();
        for id in read {
            let from = if id == "recovery" { "hard_down" } else { id };
            assert!(id == "cost" || SCENARIOS.contains(&from), "{id}");
        }
    }

    #[test]
    fn a_dimension_without_runs_is_inconclusive_and_one_without_a_scenario_is_not_graded() {
        let context =
            Context { timeout_s: 5.0, retries: 2, hops: 2, anthropic_upstream: true, primary_keys: 3 };
        let scores = grade_all(&Runs::new(), &context);
        let grade_of = |id: &str| scores.iter().find(|s| s.id == id).unwrap().grade;
        assert_eq!(grade_of("retry_after"), Grade::Inconclusive);
        assert_eq!(grade_of("cost"), Grade::Inconclusive);
        assert_eq!(grade_of("zone_loss"), Grade::Inconclusive);
        assert_eq!(grade_of("key_exhaustion"), Grade::Inconclusive);
        let openai_only = Context { anthropic_upstream: false, primary_keys: 1, ..context };
        let overloaded = grade_all(&Runs::new(), &openai_only).into_iter().find(|s| s.id == "overloaded_529");
        let overloaded = overloaded.unwrap();
        assert_eq!(overloaded.grade, Grade::NotGraded);
        assert!(overloaded.reason.contains("no Anthropic upstream"), "{}", overloaded.reason);
        let one_key = grade_all(&Runs::new(), &openai_only).into_iter().find(|s| s.id == "key_exhaustion");
        assert_eq!(one_key.map(|s| s.grade), Some(Grade::NotGraded));
        assert_eq!(
            super::super::grade::overall(scores.iter().map(|s| (s.grade, s.critical))),
            Grade::Inconclusive
        );
    }

    /// A finished synthetic run whose phases are `parts`: (name, availability, p99 ms), each of
    /// 100 requests; speed 1.
    fn run_of(parts: &[(&str, f64, f64)]) -> crate::results::Results {
        let mut results = crate::test_support::results();
        let template = results.phases[0].clone();
        results.phases = parts
            .iter()
            .map(|(name, availability, p99)| {
                let mut phase = template.clone();
                phase.name = (*name).to_owned();
                phase.logical_requests = 100;
                phase.availability = Some(*availability);
                let mut latency = phase.latency_ms.expect("the calm phase has latencies");
                latency.p99 = *p99;
                phase.latency_ms = Some(latency);
                phase
            })
            .collect();
        results
    }

    fn graded(id: &'static str, results: &crate::results::Results, context: &Context) -> DimensionScore {
        let runs: Runs = [(id, GradedRun { results, primary: "openai", report: "r.html" })].into();
        grade_all(&runs, context).into_iter().find(|score| score.id == id).unwrap()
    }

    const T5: Context =
        Context { timeout_s: 5.0, retries: 2, hops: 2, anthropic_upstream: true, primary_keys: 3 };

    #[test]
    fn a_run_whose_baseline_answered_nothing_grades_nothing_and_costs_nothing() {
        let mut broken = run_of(&[(BASELINE_PHASE, 0.0, 100.0), (FAULT_PHASE, 0.0, 100.0)]);
        broken.phases[0].successes = 0;
        broken.phases[1].cost_multiplier = Some(0.5);
        let cut = graded("stream_cut", &broken, &T5);
        assert_eq!(cut.grade, Grade::Inconclusive, "no stream was ever cut: {}", cut.reason);
        assert!(cut.reason.contains("baseline answered none of its 100 requests"), "{}", cut.reason);
        let mut working = run_of(&[(BASELINE_PHASE, 1.0, 100.0), (FAULT_PHASE, 1.0, 100.0)]);
        working.phases[0].successes = 100;
        working.phases[1].cost_multiplier = Some(1.3);
        assert_eq!(graded("stream_cut", &working, &T5).grade, Grade::A);
        // The cost's worst phase is read from the runs that worked, not the broken one's 0.5.
        let runs: Runs = [
            ("stream_cut", GradedRun { results: &broken, primary: "openai", report: "a.html" }),
            ("brownout", GradedRun { results: &working, primary: "openai", report: "b.html" }),
        ]
        .into();
        let cost = grade_all(&runs, &T5).into_iter().find(|score| score.id == "cost").unwrap();
        assert_eq!((cost.grade, cost.figure), (Grade::C, Some(1.3)), "{}", cost.reason);
        let only_broken: Runs =
            [("stream_cut", GradedRun { results: &broken, primary: "openai", report: "a.html" })].into();
        let cost = grade_all(&only_broken, &T5).into_iter().find(|score| score.id == "cost").unwrap();
        assert_eq!(cost.grade, Grade::Inconclusive, "{}", cost.reason);
    }

    #[test]
    fn a_529_that_is_not_retried_answers_half_and_fails_one_retried_as_configured_is_an_a() {
        let not_retried = graded("overloaded_529", &run_of(&[(FAULT_PHASE, 0.5, 100.0)]), &T5);
        assert_eq!(not_retried.grade, Grade::F, "{}", not_retried.reason);
        assert!((not_retried.figure.unwrap() - 0.5 / 0.875).abs() < 1e-9);
        let retried = graded("overloaded_529", &run_of(&[(FAULT_PHASE, 0.87, 100.0)]), &T5);
        assert_eq!(retried.grade, Grade::A, "{}", retried.reason);
    }

    #[test]
    fn a_stalled_stream_ended_within_the_timeout_is_an_a_and_one_waited_out_is_an_f() {
        let ended = graded("stream_stall", &run_of(&[(FAULT_PHASE, 0.5, 5_500.0)]), &T5);
        assert_eq!(ended.grade, Grade::A, "{}", ended.reason);
        let waited = graded("stream_stall", &run_of(&[(FAULT_PHASE, 1.0, 15_200.0)]), &T5);
        assert_eq!(waited.grade, Grade::F, "{}", waited.reason);
    }

    #[test]
    fn zone_loss_grades_the_worse_part_and_fails_when_requests_were_lost() {
        let parts = [(FAULT_PHASE, 1.0, 1_000.0), (LATE_PHASE, 1.0, 11_000.0)];
        let slow_late = graded("zone_loss", &run_of(&parts), &T5);
        assert_eq!((slow_late.grade, slow_late.figure), (Grade::B, Some(11.0)), "{}", slow_late.reason);
        let parts = [(FAULT_PHASE, 0.9, 1_000.0), (LATE_PHASE, 1.0, 1_000.0)];
        let lost = graded("zone_loss", &run_of(&parts), &T5);
        assert_eq!(lost.grade, Grade::F, "{}", lost.reason);
        assert!(lost.reason.contains("only 90% answered in `fault`"), "{}", lost.reason);
    }

    #[test]
    fn key_exhaustion_grades_the_share_the_primary_still_answers_and_needs_a_pool() {
        let mut results = run_of(&[(FAULT_PHASE, 1.0, 100.0)]);
        results.phases[0].served_by = [("openai".to_owned(), 67), ("anthropic".to_owned(), 33)].into();
        let pooled_per_request = graded("key_exhaustion", &results, &T5);
        assert_eq!((pooled_per_request.grade, pooled_per_request.figure), (Grade::D, Some(67.0)));
        results.phases[0].served_by = [("openai".to_owned(), 100)].into();
        assert_eq!(graded("key_exhaustion", &results, &T5).grade, Grade::A);
        let one_key = Context { primary_keys: 1, ..T5 };
        assert_eq!(graded("key_exhaustion", &results, &one_key).grade, Grade::NotGraded);
    }
}
