//! The report's tables, rendered on the server side so they read without the script: each
//! expectation with what was observed, the figures per phase, and the top failure causes —
//! what users saw, and what the upstreams answered, injected or their own.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::{
    report::cells::{self, optional},
    results::{CheckStatus, Figures, Results},
};

/// Each expectation, its observed value and its result.
pub fn expectations(results: &Results) -> Markup {
    if results.expectations.is_empty() {
        return html! { p { "The scenario has no expectations." } };
    }
    html! {
        table #expectations {
            thead { tr { th { "expectation" } th.num { "observed" } th { "result" } } }
            tbody {
                @for check in &results.expectations {
                    @let class = match check.status {
                        CheckStatus::Pass => "pass",
                        CheckStatus::Fail => "fail",
                        CheckStatus::Inconclusive => "inconclusive",
                    };
                    tr class=(class) {
                        td { code { (check.expectation.text) } }
                        td.num { (cells::observed(check)) }
                        td {
                            (cells::result(check))
                            @if check.status == CheckStatus::Inconclusive {
                                br; small { (cells::inconclusive_reason(check)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The figures of every phase and of the whole run.
pub fn phases(results: &Results) -> Markup {
    const HEADINGS: [&str; 14] = [
        "requests",
        "availability",
        "p50",
        "p99",
        "p99 uncorrected",
        "p99 TTFT",
        "attempts",
        "amplification",
        "fallback",
        "burn rate",
        "budget spent",
        "cost",
        "cost / request",
        "cost × baseline",
    ];
    html! {
        table #phases {
            thead { tr { th { "phase" } @for heading in HEADINGS { th.num { (heading) } } } }
            tbody {
                @for figures in &results.phases { (phase_row(html! { (figures.name) }, figures)) }
                (phase_row(html! { strong { "overall" } }, &results.overall))
            }
        }
    }
}

fn phase_row(name: Markup, figures: &Figures) -> Markup {
    let seconds = |ms: Option<f64>| optional(ms.map(|ms| ms / 1000.0), cells::seconds);
    let cells = [
        figures.logical_requests.to_string(),
        optional(figures.availability, cells::percent),
        seconds(figures.latency_ms.map(|p| p.p50)),
        seconds(figures.latency_ms.map(|p| p.p99)),
        seconds(figures.service_time_ms.map(|p| p.p99)),
        seconds(figures.ttft_ms.map(|p| p.p99)),
        figures.attempts.to_string(),
        optional(figures.retry_amplification, cells::ratio),
        optional(figures.fallback_rate, cells::percent),
        optional(figures.burn_rate, cells::ratio),
        optional(figures.budget_spent, cells::budget),
        optional(figures.cost_usd, cells::dollars),
        optional(figures.cost_per_request_usd, cells::dollars),
        optional(figures.cost_multiplier, cells::ratio),
    ];
    html! { tr { td { (name) } @for cell in cells { td.num { (cell) } } } }
}

/// The top failure causes of the whole run, most frequent first: logical requests by how they
/// failed, and upstream attempts by status, split into those a fault answered and the
/// upstreams' own.
pub fn failure_causes(results: &Results) -> Markup {
    const TOP: usize = 10;
    let overall = &results.overall;
    let mut failed: Vec<(&String, &u64)> = overall.outcomes.iter().filter(|(key, _)| *key != "ok").collect();
    failed.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut statuses: Vec<(&String, u64, u64)> = overall
        .attempt_statuses
        .iter()
        .filter(|(status, _)| !status.starts_with('2'))
        .map(|(status, count)| {
            let injected = overall.injected_statuses.get(status).copied().unwrap_or(0);
            (status, injected, count - injected.min(*count))
        })
        .collect();
    statuses.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
    html! {
        div.side-by-side {
            table #failed-requests {
                caption { "What users saw: requests that failed" }
                thead { tr { th { "outcome" } th.num { "requests" } th.num { "share" } } }
                tbody {
                    @for (outcome, count) in failed.iter().take(TOP) {
                        tr { td { (outcome) } td.num { (count) } td.num { (share(**count, overall.logical_requests)) } }
                    }
                    @if failed.is_empty() { tr { td colspan="3" { "none" } } }
                }
            }
            table #failed-attempts {
                caption { "What the upstreams answered: attempts that failed" }
                thead { tr { th { "status" } th.num { "injected" } th.num { "upstream's own" } } }
                tbody {
                    @for (status, injected, own) in statuses.iter().take(TOP) {
                        tr { td { (status) } td.num { (injected) } td.num { (own) } }
                    }
                    @if statuses.is_empty() { tr { td colspan="3" { "none" } } }
                }
            }
        }
    }
}

fn share(part: u64, whole: u64) -> String {
    optional((whole > 0).then(|| part as f64 / whole as f64), cells::percent)
}

/// What each upstream received, summed over keys and models, from the mocks' own counters; a
/// `url` upstream (a real provider) shows its base URL.
pub fn upstreams(results: &Results) -> Markup {
    let rows: Vec<(String, Option<&str>, BTreeMap<String, u64>)> = results
        .upstreams
        .iter()
        .map(|upstream| {
            let mut totals = BTreeMap::new();
            for row in upstream.received.as_array().into_iter().flatten() {
                for (field, value) in row.as_object().into_iter().flatten() {
                    if let Some(count) = value.as_u64().filter(|_| field != "key") {
                        *totals.entry(field.clone()).or_insert(0) += count;
                    }
                }
            }
            (upstream.name.clone(), upstream.url.as_deref(), totals)
        })
        .collect();
    html! {
        @if !rows.is_empty() {
            table #upstreams {
                caption { "What each upstream counted itself (mocks: all keys and models)" }
                tbody {
                    @for (name, url, totals) in &rows {
                        tr {
                            td { (name) }
                            td {
                                @if let Some(url) = url {
                                    "a real provider at " code { (url) } ": counted by the interposer only"
                                } @else {
                                    @for (field, count) in totals { span.count { (field) ": " (count) } " " }
                                    @if totals.is_empty() { "nothing received" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_causes_split_injected_from_the_upstreams_own() {
        let mut results = crate::test_support::results();
        results.overall.attempt_statuses.insert("429".to_owned(), 5);
        results.overall.injected_statuses.insert("429".to_owned(), 3);
        let html = failure_causes(&results).into_string();
        assert!(html.contains("<td>429</td><td class=\"num\">3</td><td class=\"num\">2</td>"), "{html}");
        // The fixture's 20 injected 503s come first: the most frequent cause.
        let first_503 = html.find("<td>503</td>").expect("503 row");
        assert!(first_503 < html.find("<td>429</td>").unwrap(), "{html}");
        assert!(
            html.contains("<td>http_503</td><td class=\"num\">20</td><td class=\"num\">40.00%</td>"),
            "{html}"
        );
    }

    #[test]
    fn scenario_text_is_escaped() {
        let mut results = crate::test_support::results();
        results.phases[0].name = "<script>alert(1)</script>".to_owned();
        let html = phases(&results).into_string();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
    }
}
