//! The retries and failovers of each phase, from requests joined by correlation id: how long
//! the target waited before each retry (p50 / p99 / max, and by the upstream it retried at),
//! how closely it followed `retry-after`, and how long each request took to fail over.

use maud::{html, Markup};

use crate::{
    report::cells::{self, optional},
    results::{Figures, Percentiles, Results},
};

/// One row per phase and one for the whole run; then the gaps by upstream, where retries went
/// to more than one. Nothing when no request was retried or failed over.
pub fn retries(results: &Results) -> Markup {
    let windows: Vec<&Figures> = results.phases.iter().chain([&results.overall]).collect();
    if windows.iter().all(|figures| figures.retry_gap_ms.is_none() && figures.retries_asked_to_wait == 0) {
        return html! { p { "No request was tried more than once." } };
    }
    const HEADINGS: [&str; 11] = [
        "gap p50",
        "gap p99",
        "gap max",
        "asked to wait",
        "waited ≥ ask",
        "within tolerance",
        "shorter",
        "longer",
        "failovers",
        "failover p50",
        "failover p99",
    ];
    let by_upstream: Vec<(&str, &String, &Percentiles)> = results
        .phases
        .iter()
        .filter(|figures| figures.retry_gap_ms_by_upstream.len() > 1)
        .flat_map(|figures| {
            figures
                .retry_gap_ms_by_upstream
                .iter()
                .map(|(upstream, gaps)| (figures.name.as_str(), upstream, gaps))
        })
        .collect();
    html! {
        table #retries {
            caption { "Gaps before retries (an answer's end to the next attempt's arrival), Retry-After followed within max(10 % of the ask, 250 ms), and each request's time to fail over" }
            thead { tr { th { "phase" } @for heading in HEADINGS { th.num { (heading) } } } }
            tbody {
                @for figures in &results.phases { (row(html! { (figures.name) }, figures)) }
                (row(html! { strong { "overall" } }, &results.overall))
            }
        }
        @if !by_upstream.is_empty() {
            table #retry-gaps-by-upstream {
                caption { "Gaps before retries, by the upstream retried at" }
                thead { tr { th { "phase" } th { "upstream" } th.num { "p50" } th.num { "p99" } th.num { "max" } } }
                tbody {
                    @for (phase, upstream, gaps) in &by_upstream {
                        tr {
                            td { (phase) } td { (upstream) }
                            @for ms in [gaps.p50, gaps.p99, gaps.max] { td.num { (cells::seconds(ms / 1000.0)) } }
                        }
                    }
                }
            }
        }
    }
}

fn row(name: Markup, figures: &Figures) -> Markup {
    let seconds = |ms: Option<f64>| optional(ms.map(|ms| ms / 1000.0), cells::seconds);
    let gaps = figures.retry_gap_ms;
    let failover = figures.failover_ms;
    let cells = [
        seconds(gaps.map(|p| p.p50)),
        seconds(gaps.map(|p| p.p99)),
        seconds(gaps.map(|p| p.max)),
        figures.retries_asked_to_wait.to_string(),
        optional(figures.retry_after_compliance, cells::percent),
        optional(figures.retry_after_honoured, cells::percent),
        optional(figures.retry_after_shorter, cells::percent),
        optional(figures.retry_after_longer, cells::percent),
        figures.failovers.to_string(),
        seconds(failover.map(|p| p.p50)),
        seconds(failover.map(|p| p.p99)),
    ];
    html! { tr { td { (name) } @for cell in cells { td.num { (cell) } } } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentiles(p50: f64, p99: f64) -> Percentiles {
        Percentiles { p50, p90: p99, p99, p999: p99, max: p99 }
    }

    #[test]
    fn a_phase_row_shows_gaps_waits_against_the_ask_and_failovers() {
        let mut results = crate::test_support::results();
        assert!(retries(&results).into_string().contains("No request was tried more than once"));
        let down = &mut results.phases[1];
        down.retry_gap_ms = Some(percentiles(1_000.0, 2_000.0));
        down.retry_gap_ms_by_upstream = [
            ("openai".to_owned(), percentiles(1_000.0, 2_000.0)),
            ("anthropic".to_owned(), percentiles(3.2, 4.0)),
        ]
        .into();
        down.retries_asked_to_wait = 40;
        down.retry_after_compliance = Some(0.5);
        down.retry_after_honoured = Some(0.1);
        down.retry_after_shorter = Some(0.6);
        down.retry_after_longer = Some(0.3);
        down.failovers = 12;
        down.failover_ms = Some(percentiles(3.2, 4.0));
        let html = retries(&results).into_string();
        let cells = "<td class=\"num\">1.00s</td><td class=\"num\">2.00s</td><td class=\"num\">2.00s</td>\
                     <td class=\"num\">40</td><td class=\"num\">50.00%</td><td class=\"num\">10.00%</td>\
                     <td class=\"num\">60.00%</td><td class=\"num\">30.00%</td><td class=\"num\">12</td>\
                     <td class=\"num\">3.2ms</td><td class=\"num\">4.0ms</td>";
        assert!(html.contains(cells), "{html}");
        assert!(html.contains("<td>down</td><td>anthropic</td><td class=\"num\">3.2ms</td>"), "{html}");
    }
}
