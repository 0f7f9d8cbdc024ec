//! The expectation language of a scenario's `expect:` list:
//!
//! ```text
//! expectation := metric labels? op value
//! metric      := availability | error_rate | retry_amplification | burn_rate | budget_spent
//!              | fallback_rate | cost_multiplier | cost_per_request | cost_per_minute
//!              | retry_after_compliance | retry_after_honoured | duplicate_rate
//!              | time_to_failover | time_to_recover        (with a phase label only)
//!              | (p50 | p90 | p99 | p99.9 | max) ( "(" timing labels? ")" )?
//! timing      := latency | service_time | ttfb | ttft | itl | stall | retry_gap | failover
//! labels      := "{" label ( "," label )* "}"            (once: after the metric or in the
//! label       := phase "=" name | upstream "=" name       parentheses; upstream with retry_gap only)
//! op          := < | <= | > | >= | ==
//! value       := number unit?      units: % for ratios (and budget_spent, fallback_rate,
//!                                  retry_after_compliance, retry_after_honoured,
//!                                  duplicate_rate), us|ms|s|m for
//!                                  latencies and times to fail over and recover; none for retry_amplification, burn_rate and
//!                                  cost_multiplier; dollars for cost_per_request and
//!                                  cost_per_minute (`$0.01` or `0.01`)
//! ```
//!
//! Parsing checks that the value's unit fits the metric and that the phase and upstream exist; an error
//! carries the character offset inside the expression so it can be reported at its column.

pub use crate::results::{Comparison, Expectation, LatencyBasis, Metric};

use std::fmt;

use crate::units::HumanDuration;

/// A parse failure at a character offset within the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

const METRICS: &[&str] = &[
    "availability",
    "error_rate",
    "retry_amplification",
    "burn_rate",
    "budget_spent",
    "fallback_rate",
    "cost_multiplier",
    "cost_per_request",
    "cost_per_minute",
    "retry_after_compliance",
    "retry_after_honoured",
    "duplicate_rate",
    "time_to_failover",
    "time_to_recover",
    "p50",
    "p90",
    "p99",
    "p99.9",
    "max",
];

struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        let rest = &self.text[self.position..];
        self.position += rest.len() - rest.trim_start().len();
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> (usize, &'a str) {
        self.skip_spaces();
        let start = self.position;
        let rest = &self.text[start..];
        let length = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.position += length;
        (start, &rest[..length])
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        let found = self.text[self.position..].starts_with(token);
        if found {
            self.position += token.len();
        }
        found
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ExpectError {
        ExpectError { offset, message: message.into() }
    }
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The names a label may give: the scenario's phases and upstreams, in order.
struct Names<'a> {
    phases: &'a [String],
    upstreams: &'a [String],
}

/// The labels of an expectation, as written.
#[derive(Default)]
struct Labels {
    phase: Option<usize>,
    /// The upstream's name and where it is written.
    upstream: Option<(usize, String)>,
}

/// Parses one expectation; `phases` are the scenario's phase names in order (an `upstream=`
/// label names no upstream here: see [`parse_in`]).
pub fn parse(text: &str, phases: &[String]) -> Result<Expectation, ExpectError> {
    parse_in(text, phases, &[])
}

/// Parses one expectation of a scenario with these phases and upstreams (names, in order).
pub fn parse_in(text: &str, phases: &[String], upstreams: &[String]) -> Result<Expectation, ExpectError> {
    let names = Names { phases, upstreams };
    let mut cursor = Cursor { text, position: 0 };
    let (start, name) = cursor.take_while(is_name);
    let (metric, inner) = parse_metric(&mut cursor, start, name, &names)?;
    cursor.skip_spaces();
    let outer_start = cursor.position;
    let outer = parse_labels(&mut cursor, &names)?;
    let labels = match (inner, outer) {
        (Some(_), Some(_)) => {
            return Err(cursor.error(outer_start, "labels are given twice: keep one `{…}`"));
        }
        (inner, outer) => inner.or(outer).unwrap_or_default(),
    };
    if let Some((at, _)) = &labels.upstream {
        if !matches!(metric, Metric::Latency { basis: LatencyBasis::RetryGap, .. }) {
            return Err(cursor.error(
                *at,
                "`upstream=` goes with `retry_gap` only, as in `p50(retry_gap){upstream=NAME}`",
            ));
        }
    }
    let phase = labels.phase;
    if phase.is_none() && matches!(metric, Metric::TimeToFailover | Metric::TimeToRecover) {
        return Err(
            cursor.error(start + name.len(), format!("`{name}` is measured per phase: add `{{phase=NAME}}`"))
        );
    }
    let (op_start, op_text) = cursor.take_while(|c| matches!(c, '<' | '>' | '='));
    let op = match op_text {
        "<" => Comparison::Lt,
        "<=" => Comparison::Le,
        ">" => Comparison::Gt,
        ">=" => Comparison::Ge,
        "==" => Comparison::Eq,
        _ => {
            return Err(
                cursor.error(op_start, format!("expected a comparison (<, <=, >, >=, ==) after `{name}`"))
            )
        }
    };
    cursor.skip_spaces();
    let value_start = cursor.position;
    let value = cursor.text[value_start..].trim_end();
    let threshold = parse_threshold(metric, value).map_err(|message| cursor.error(value_start, message))?;
    let upstream = labels.upstream.map(|(_, name)| name);
    Ok(Expectation { text: text.to_owned(), metric, phase, upstream, op, threshold })
}

/// The metric, and the labels written inside a timing's parentheses.
fn parse_metric(
    cursor: &mut Cursor<'_>,
    start: usize,
    name: &str,
    names: &Names<'_>,
) -> Result<(Metric, Option<Labels>), ExpectError> {
    let plain = |metric| Ok((metric, None));
    let quantile = match name {
        "availability" => return plain(Metric::Availability),
        "error_rate" => return plain(Metric::ErrorRate),
        "retry_amplification" => return plain(Metric::RetryAmplification),
        "burn_rate" => return plain(Metric::BurnRate),
        "budget_spent" => return plain(Metric::BudgetSpent),
        "fallback_rate" => return plain(Metric::FallbackRate),
        "cost_multiplier" => return plain(Metric::CostMultiplier),
        "cost_per_request" => return plain(Metric::CostPerRequest),
        "cost_per_minute" => return plain(Metric::CostPerMinute),
        "retry_after_compliance" => return plain(Metric::RetryAfterCompliance),
        "retry_after_honoured" => return plain(Metric::RetryAfterHonoured),
        "duplicate_rate" => return plain(Metric::DuplicateRate),
        "time_to_failover" => return plain(Metric::TimeToFailover),
        "time_to_recover" => return plain(Metric::TimeToRecover),
        "p50" => 0.5,
        "p90" => 0.9,
        "p99" => 0.99,
        "p99.9" => 0.999,
        "max" => 1.0,
        _ => {
            let hint = super::error::closest(name, METRICS.iter().copied())
                .map(|best| format!("did you mean `{best}`? "))
                .unwrap_or_default();
            return Err(cursor.error(
                start,
                format!("unknown metric `{name}`; {hint}expected one of {}", METRICS.join(", ")),
            ));
        }
    };
    let mut basis = LatencyBasis::Latency;
    let mut labels = None;
    if cursor.eat("(") {
        let (arg_start, argument) = cursor.take_while(is_name);
        let known = LatencyBasis::NAMES.iter().find(|(name, _)| *name == argument);
        basis = match known {
            Some((_, basis)) => *basis,
            None => {
                let names: Vec<&str> = LatencyBasis::NAMES.iter().map(|(name, _)| *name).collect();
                return Err(cursor.error(
                    arg_start,
                    format!("unknown timing `{argument}`; expected one of {}", names.join(", ")),
                ));
            }
        };
        labels = parse_labels(cursor, names)?;
        if !cursor.eat(")") {
            return Err(cursor.error(cursor.position, "expected `)`"));
        }
    }
    Ok((Metric::Latency { quantile, basis }, labels))
}

/// `{phase=NAME, upstream=NAME}`, either or both, if there.
fn parse_labels(cursor: &mut Cursor<'_>, names: &Names<'_>) -> Result<Option<Labels>, ExpectError> {
    if !cursor.eat("{") {
        return Ok(None);
    }
    let mut labels = Labels::default();
    loop {
        let (key_start, key) = cursor.take_while(is_name);
        let (known, given) = match key {
            "phase" => (names.phases, labels.phase.is_some()),
            "upstream" => (names.upstreams, labels.upstream.is_some()),
            _ => {
                return Err(
                    cursor.error(key_start, format!("unknown label `{key}`; expected `phase` or `upstream`"))
                )
            }
        };
        if given {
            return Err(cursor.error(key_start, format!("the `{key}` label is given twice")));
        }
        if !cursor.eat("=") {
            return Err(cursor.error(cursor.position, format!("expected `=` after `{key}`")));
        }
        let (value_start, value) = cursor.take_while(is_name);
        let Some(index) = known.iter().position(|name| name == value) else {
            let plural = if key == "phase" { "phases" } else { "upstreams" };
            return Err(cursor
                .error(value_start, format!("no {key} named `{value}`; {plural} are {}", known.join(", "))));
        };
        match key {
            "phase" => labels.phase = Some(index),
            _ => labels.upstream = Some((key_start, value.to_owned())),
        }
        if cursor.eat("}") {
            return Ok(Some(labels));
        }
        if !cursor.eat(",") {
            return Err(cursor.error(cursor.position, "expected `,` or `}` after a label"));
        }
    }
}

fn parse_threshold(metric: Metric, value: &str) -> Result<f64, String> {
    match metric {
        Metric::Availability
        | Metric::ErrorRate
        | Metric::BudgetSpent
        | Metric::FallbackRate
        | Metric::RetryAfterCompliance
        | Metric::RetryAfterHonoured
        | Metric::DuplicateRate => {
            value.parse::<crate::units::Percent>().map(|p| p.0).map_err(|error| error.to_string())
        }
        Metric::Latency { .. } | Metric::TimeToFailover | Metric::TimeToRecover => value
            .parse::<HumanDuration>()
            .map(|d| d.0.as_secs_f64())
            .map_err(|_| format!("invalid latency `{value}`: expected a duration like `2.5s` or `250ms`")),
        Metric::RetryAmplification => plain_number(value, "ratio", "1.5"),
        Metric::BurnRate => plain_number(value, "burn rate", "14.4"),
        Metric::CostMultiplier => plain_number(value, "cost multiplier", "1.3"),
        Metric::CostPerRequest | Metric::CostPerMinute => {
            plain_number(value.strip_prefix('$').unwrap_or(value), "cost", "$0.01")
                .map_err(|_| format!("invalid cost `{value}`: expected US dollars like `$0.01` or `0.01`"))
        }
    }
}

/// A finite, non-negative number without a unit.
fn plain_number(value: &str, what: &str, example: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("invalid {what} `{value}`: expected a plain number like `{example}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases() -> Vec<String> {
        vec!["baseline".into(), "brownout".into()]
    }

    #[test]
    fn parses_ratio_latency_and_plain_expectations() {
        let availability = parse("availability{phase=brownout} >= 99.5%", &phases()).unwrap();
        assert_eq!(availability.metric, Metric::Availability);
        assert_eq!(availability.phase, Some(1));
        assert_eq!(availability.op, Comparison::Ge);
        assert!((availability.threshold - 0.995).abs() < 1e-12);

        let p99 = parse("p99(service_time) < 250ms", &phases()).unwrap();
        assert_eq!(p99.metric, Metric::Latency { quantile: 0.99, basis: LatencyBasis::ServiceTime });
        assert_eq!(p99.phase, None);
        assert!((p99.threshold - 0.25).abs() < 1e-12);

        let amplification = parse("retry_amplification{ phase = baseline } == 1.0", &phases()).unwrap();
        assert_eq!(amplification.threshold, 1.0);
    }

    #[test]
    fn parses_burn_rate_and_budget_spent() {
        let burn = parse("burn_rate{phase=brownout} < 14.4", &phases()).unwrap();
        assert_eq!((burn.metric, burn.phase, burn.threshold), (Metric::BurnRate, Some(1), 14.4));
        let percent = parse("budget_spent <= 2%", &phases()).unwrap();
        assert_eq!(percent.metric, Metric::BudgetSpent);
        assert!((percent.threshold - 0.02).abs() < 1e-12);
        let fraction = parse("budget_spent{phase=baseline} < 0.02", &phases()).unwrap();
        assert!((fraction.threshold - 0.02).abs() < 1e-12);
        let fallback = parse("fallback_rate{phase=brownout} < 5%", &phases()).unwrap();
        assert_eq!((fallback.metric, fallback.threshold), (Metric::FallbackRate, 0.05));
        let compliance = parse("retry_after_compliance{phase=brownout} >= 99%", &phases()).unwrap();
        assert_eq!((compliance.metric, compliance.threshold), (Metric::RetryAfterCompliance, 0.99));
        let duplicates = parse("duplicate_rate < 0.5%", &phases()).unwrap();
        assert_eq!((duplicates.metric, duplicates.threshold), (Metric::DuplicateRate, 0.005));
        let with_unit = parse("burn_rate < 14.4%", &phases()).unwrap_err();
        assert_eq!(with_unit.offset, 12);
        assert!(with_unit.message.contains("invalid burn rate `14.4%`: expected a plain number"));
    }

    #[test]
    fn parses_cost_multiplier_and_cost_per_request_in_dollars() {
        let multiplier = parse("cost_multiplier{phase=brownout} < 1.3", &phases()).unwrap();
        assert_eq!(
            (multiplier.metric, multiplier.phase, multiplier.threshold),
            (Metric::CostMultiplier, Some(1), 1.3)
        );
        let dollars = parse("cost_per_request{phase=baseline} <= $0.01", &phases()).unwrap();
        assert_eq!((dollars.metric, dollars.threshold), (Metric::CostPerRequest, 0.01));
        assert_eq!(parse("cost_per_request < 0.002", &phases()).unwrap().threshold, 0.002);
        let percent = parse("cost_per_request < 1%", &phases()).unwrap_err();
        assert_eq!(percent.offset, 19);
        assert!(percent.message.contains("invalid cost `1%`: expected US dollars"), "{}", percent.message);
        let negative = parse("cost_multiplier > -1", &phases()).unwrap_err();
        assert!(negative.message.contains("invalid cost multiplier `-1`"), "{}", negative.message);
        let typo = parse("cost_multiplyer < 2", &phases()).unwrap_err();
        assert!(typo.message.contains("did you mean `cost_multiplier`"), "{}", typo.message);
    }

    #[test]
    fn parses_times_to_fail_over_and_recover_per_phase_only() {
        let failover = parse("time_to_failover{phase=brownout} < 5s", &phases()).unwrap();
        assert_eq!(
            (failover.metric, failover.phase, failover.threshold),
            (Metric::TimeToFailover, Some(1), 5.0)
        );
        let recover = parse("time_to_recover{phase=baseline} <= 1500ms", &phases()).unwrap();
        assert_eq!((recover.metric, recover.threshold), (Metric::TimeToRecover, 1.5));
        let whole_run = parse("time_to_recover < 5s", &phases()).unwrap_err();
        assert_eq!(whole_run.offset, 15);
        assert!(whole_run.message.contains("measured per phase"), "{}", whole_run.message);
        let unit = parse("time_to_failover{phase=brownout} < 5", &phases()).unwrap_err();
        assert!(unit.message.contains("duration"), "{}", unit.message);
    }

    #[test]
    fn errors_point_at_the_offending_part() {
        let unknown = parse("p98 < 2s", &phases()).unwrap_err();
        assert_eq!(unknown.offset, 0);
        assert!(unknown.message.contains("did you mean `p99`"), "{}", unknown.message);
        let phase = parse("availability{phase=brownot} > 99%", &phases()).unwrap_err();
        assert_eq!(phase.offset, 19);
        let unit = parse("p99 < 3", &phases()).unwrap_err();
        assert_eq!(unit.offset, 6);
        assert!(unit.message.contains("duration"));
        let op = parse("availability 99%", &phases()).unwrap_err();
        assert!(op.message.contains("comparison"));
    }

    #[test]
    fn parses_retry_gaps_with_phase_and_upstream_labels_inside_or_after_the_parentheses() {
        let upstreams = ["openai".to_owned(), "anthropic".to_owned()];
        let parse = |text: &str| parse_in(text, &phases(), &upstreams);
        let inside = parse("p50(retry_gap{phase=brownout}) >= 1s").unwrap();
        let gap = Metric::Latency { quantile: 0.5, basis: LatencyBasis::RetryGap };
        assert_eq!(
            (inside.metric, inside.phase, inside.upstream, inside.threshold),
            (gap, Some(1), None, 1.0)
        );
        let after = parse("p50(retry_gap){phase=brownout} >= 1s").unwrap();
        assert_eq!((after.metric, after.phase), (gap, Some(1)));
        let narrowed = parse("max(retry_gap{ upstream = anthropic, phase=baseline }) < 6s").unwrap();
        assert_eq!(narrowed.metric, Metric::Latency { quantile: 1.0, basis: LatencyBasis::RetryGap });
        assert_eq!((narrowed.phase, narrowed.upstream.as_deref()), (Some(0), Some("anthropic")));
        let p99 = parse("p99(retry_gap){upstream=openai} <= 2500ms").unwrap();
        assert_eq!((p99.phase, p99.upstream.as_deref(), p99.threshold), (None, Some("openai"), 2.5));
        let failover = parse("p99(failover){phase=brownout} < 50ms").unwrap();
        assert_eq!(failover.metric, Metric::Latency { quantile: 0.99, basis: LatencyBasis::Failover });
        assert!((failover.threshold - 0.05).abs() < 1e-12);
        let honoured = parse("retry_after_honoured{phase=brownout} >= 90%").unwrap();
        assert_eq!((honoured.metric, honoured.threshold), (Metric::RetryAfterHonoured, 0.9));
    }

    #[test]
    fn upstream_labels_are_checked_where_they_are_written() {
        let upstreams = ["openai".to_owned()];
        // Each expression, the offset its error names, and what the error says.
        let cases = [
            ("p50(retry_gap{upstream=openia}) >= 1s", 23, "no upstream named `openia`; upstreams are openai"),
            ("p50(ttft){upstream=openai} < 1s", 10, "`upstream=` goes with `retry_gap` only"),
            ("p50(retry_gap{phase=brownout}){phase=baseline} > 1s", 30, "labels are given twice"),
            ("p50(retry_gap){phase=brownout, phase=baseline} > 1s", 31, "the `phase` label is given twice"),
            ("p50(retry_gap) > 50%", 17, "duration"),
            ("availability{zone=a} > 99%", 13, "expected `phase` or `upstream`"),
        ];
        for (text, offset, message) in cases {
            let error = parse_in(text, &phases(), &upstreams).unwrap_err();
            assert_eq!(error.offset, offset, "{text}: {}", error.message);
            assert!(error.message.contains(message), "{text}: {}", error.message);
        }
    }

    #[test]
    fn comparisons_hold_as_written() {
        assert!(Comparison::Lt.holds(1.0, 2.0));
        assert!(!Comparison::Ge.holds(0.98, 0.99));
        assert!(Comparison::Eq.holds(3.0, 3.0));
    }

    #[test]
    fn only_timings_kept_live_can_be_watched() {
        let watchable = Metric::watchable_live;
        assert!(watchable(Metric::Latency { quantile: 0.99, basis: LatencyBasis::Ttft }));
        assert!(!watchable(Metric::Latency { quantile: 0.99, basis: LatencyBasis::Itl }));
        assert!(!watchable(Metric::BudgetSpent) && watchable(Metric::CostPerMinute));
    }
}
