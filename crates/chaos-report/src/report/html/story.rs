//! What the target did in each phase, in words a postmortem can quote: "brownout: 800
//! requests, 97.25% succeeded, p99 2.10s. 30.00% of the successful attempts were served by
//! anthropic (fallback). Each request took 1.39 attempts; faults answered 240 of them."

use crate::{
    report::cells::{self, optional},
    results::{Figures, Transitions},
};

/// A phase's figures in two or three sentences.
pub fn phase_story(figures: &Figures, primary: Option<&str>) -> String {
    let mut sentences = vec![format!(
        "{} requests, {} succeeded, p99 latency {}",
        figures.logical_requests,
        optional(figures.availability, cells::percent),
        optional(figures.latency_ms.map(|p| p.p99 / 1000.0), cells::seconds),
    )];
    sentences.extend(served(figures, primary));
    if let Some(amplification) = figures.retry_amplification {
        let mut attempts = format!("Each request took {} attempts upstream", cells::ratio(amplification));
        if figures.injected > 0 {
            attempts.push_str(&format!("; faults answered {} of the {}", figures.injected, figures.attempts));
        }
        sentences.push(attempts);
    } else {
        sentences.push("No attempt reached an interposer".to_owned());
    }
    if let Some(gaps) = figures.retry_gap_ms {
        sentences.push(format!(
            "Retries came {} after the answer before them at the median, {} at p99",
            cells::seconds(gaps.p50 / 1000.0),
            cells::seconds(gaps.p99 / 1000.0)
        ));
    }
    if figures.retries_asked_to_wait > 0 {
        sentences.push(format!(
            "{} retries were asked to wait (retry-after); {} of them waited at least as asked, {} within \
             tolerance of the ask ({} shorter, {} longer)",
            figures.retries_asked_to_wait,
            optional(figures.retry_after_compliance, cells::percent),
            optional(figures.retry_after_honoured, cells::percent),
            optional(figures.retry_after_shorter, cells::percent),
            optional(figures.retry_after_longer, cells::percent),
        ));
    }
    sentences.extend(transitions(&figures.transitions));
    if let Some(failover) = figures.failover_ms {
        sentences.push(format!(
            "{} requests failed over, {} after their first failed answer at the median, {} at p99",
            figures.failovers,
            cells::seconds(failover.p50 / 1000.0),
            cells::seconds(failover.p99 / 1000.0)
        ));
    }
    if let (Some(per_request), Some(multiplier)) = (figures.cost_per_request_usd, figures.cost_multiplier) {
        sentences.push(format!(
            "Cost per request {}, {}× the baseline's",
            cells::dollars(per_request),
            cells::ratio(multiplier)
        ));
    }
    sentences.join(". ") + "."
}

/// How soon the target failed over off the faulted primary, and came back after.
fn transitions(transitions: &Transitions) -> Vec<String> {
    let mut said = Vec::new();
    match (transitions.failed_over, transitions.time_to_failover_s) {
        (Some(true), Some(after)) => said.push(format!("It failed over within {}", cells::seconds(after))),
        (Some(false), _) => said.push("It never failed over to another upstream".to_owned()),
        _ => {}
    }
    match (transitions.recovered, transitions.time_to_recover_s) {
        (Some(true), Some(after)) => {
            said.push(format!("It was back at the baseline within {}", cells::seconds(after)))
        }
        (Some(false), _) => said.push("It never got back to the baseline in this phase".to_owned()),
        _ => {}
    }
    said
}

/// Who served the successes, when anyone other than the primary did.
fn served(figures: &Figures, primary: Option<&str>) -> Option<String> {
    let total: u64 = figures.served_by.values().sum();
    let others: Vec<String> = figures
        .served_by
        .iter()
        .filter(|(name, count)| Some(name.as_str()) != primary && **count > 0)
        .map(|(name, count)| format!("{} by {name}", cells::percent(*count as f64 / total as f64)))
        .collect();
    if total == 0 || others.is_empty() {
        return None;
    }
    Some(format!("Of the successful attempts, {} (fallback)", others.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_reads_as_requests_fallback_attempts_and_cost() {
        let mut figures = crate::test_support::results().phases[1].clone();
        figures.served_by = [("openai".to_owned(), 7), ("anthropic".to_owned(), 3)].into();
        figures.cost_multiplier = Some(2.5);
        let story = phase_story(&figures, Some("openai"));
        assert!(story.starts_with("20 requests, 0.00% succeeded, p99 latency 20.0ms. "), "{story}");
        assert!(story.contains("Of the successful attempts, 30.00% by anthropic (fallback). "), "{story}");
        assert!(
            story.contains("Each request took 1.00 attempts upstream; faults answered 20 of the 20. "),
            "{story}"
        );
        assert!(story.ends_with("× the baseline's.") || figures.cost_per_request_usd.is_none(), "{story}");
    }

    #[test]
    fn failing_over_and_recovering_read_in_seconds() {
        let mut figures = crate::test_support::results().phases[1].clone();
        figures.transitions = Transitions {
            failed_over: Some(true),
            time_to_failover_s: Some(2.0),
            recovered: Some(false),
            time_to_recover_s: None,
        };
        figures.retries_asked_to_wait = 12;
        figures.retry_after_compliance = Some(0.75);
        figures.retry_after_honoured = Some(0.25);
        figures.retry_after_shorter = Some(0.25);
        figures.retry_after_longer = Some(0.5);
        let percentiles =
            |p50: f64, p99: f64| crate::results::Percentiles { p50, p90: p99, p99, p999: p99, max: p99 };
        figures.retry_gap_ms = Some(percentiles(1_000.0, 2_000.0));
        figures.failovers = 9;
        figures.failover_ms = Some(percentiles(3.2, 4.5));
        let story = phase_story(&figures, Some("openai"));
        assert!(
            story.contains("Retries came 1.00s after the answer before them at the median, 2.00s at p99. "),
            "{story}"
        );
        assert!(
            story.contains(
                "12 retries were asked to wait (retry-after); 75.00% of them waited at least as asked, \
                 25.00% within tolerance of the ask (25.00% shorter, 50.00% longer). "
            ),
            "{story}"
        );
        assert!(
            story.contains("It failed over within 2.00s. It never got back to the baseline in this phase"),
            "{story}"
        );
        assert!(
            story.contains(
                "9 requests failed over, 3.2ms after their first failed answer at the median, 4.5ms at p99"
            ),
            "{story}"
        );
    }

    #[test]
    fn the_primary_serving_everything_is_no_fallback() {
        let mut figures = crate::test_support::results().phases[0].clone();
        figures.served_by = [("openai".to_owned(), 10)].into();
        assert!(!phase_story(&figures, Some("openai")).contains("fallback"));
    }
}
