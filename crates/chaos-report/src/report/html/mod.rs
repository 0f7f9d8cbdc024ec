//! `report.html`: the run for people, in one self-contained file rendered from `results.json`
//! alone — no network, no CDN: the styles, the chart library (uPlot, MIT, vendored in
//! `vendor/`), the page's script and the chart data are all inlined.
//!
//! The header, the story per phase and every table are rendered here (`story.rs`, `tables.rs`,
//! `keys.rs`, `retries.rs`) and read without the script; the charts are data made in `charts.rs`
//! that `report.js` hands to uPlot, with the phases shaded across each. The same results give the
//! same bytes: nothing here reads a clock or iterates a hash map.

mod charts;
mod keys;
mod palette;
mod retries;
mod story;
mod tables;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::cells;
use crate::results::{Results, Verdict};

pub use charts::{chart_data, ChartData};

/// The vendored chart library and its stylesheet: uPlot 1.6.32 from npm.
const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");
const REPORT_JS: &str = include_str!("report.js");
const REPORT_CSS: &str = include_str!("report.css");

/// Renders `report.html` from the results.
pub fn render_html(results: &Results) -> String {
    let scenario = &results.scenario;
    let title = format!("chaos: {} — {}", scenario.name, cells::verdict(results.verdict));
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(UPLOT_CSS)) (PreEscaped(REPORT_CSS)) }
            }
            body {
                (header(results))
                section #story {
                    h2 { "What happened" }
                    ul {
                        @for figures in &results.phases {
                            li { strong { (figures.name) ": " } (story::phase_story(figures, scenario.primary_upstream.as_deref())) }
                        }
                    }
                    @if let Some(paging) = &results.overall.paging {
                        p #paging { strong { "Would it have paged? " } (cells::paging(paging, results.overall.peak_burn_rate_5m, str::to_owned)) }
                    }
                }
                section #expectations-section { h2 { "Expectations" } (tables::expectations(results)) }
                section #timeline {
                    h2 { "Timeline" }
                    p.hint { "Phases are shaded (red where a fault fired). Drag across a chart to zoom, double-click to reset; click a legend entry to hide its line." }
                    @for chart in ["outcomes", "latency", "ttft", "attempts", "burn", "cost"] {
                        div.chart id={ "chart-" (chart) } {}
                    }
                }
                section #phases-section { h2 { "Phases" } (tables::phases(results)) }
                (keys::keys(results))
                section #retries-section { h2 { "Retries and failover" } (retries::retries(results)) }
                section #causes { h2 { "Top failure causes" } (tables::failure_causes(results)) (tables::upstreams(results)) }
                section #spectrum-section {
                    h2 { "Latency spectrum" }
                    p.hint { "Each phase's latency at every percentile, the tail spread out as HdrHistogram plots it: 1 is p90, 2 p99, 3 p99.9." }
                    div.chart #chart-spectrum {}
                }
                footer {
                    "Rendered from results.json (schema v" (results.schema_version) ") by chaos " (results.harness_version)
                    ". Charts by uPlot 1.6.32 (MIT, © Leon Sorokin)."
                }
                script type="application/json" #chart-data { (PreEscaped(chart_json(results))) }
                script { (PreEscaped(UPLOT_JS)) }
                script { (PreEscaped(REPORT_JS)) }
            }
        }
    };
    page.into_string()
}

/// The verdict, and what ran: scenario, seed, duration, target, SLO, and the generator's own
/// account when it did not keep up.
fn header(results: &Results) -> Markup {
    let scenario = &results.scenario;
    let verdict = cells::verdict(results.verdict);
    let class = match results.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive | Verdict::Invalid | Verdict::Interrupted | Verdict::Halted => "warn",
    };
    html! {
        header {
            p #verdict class=(class) data-verdict=(format!("{:?}", results.verdict).to_lowercase()) { (verdict) }
            h1 { (scenario.name) }
            @if let Some(description) = &scenario.description { p.description { (description) } }
            dl {
                dt { "scenario" } dd { code { (scenario.file) } ", seed " (scenario.seed) }
                dt { "started" } dd { (results.run.started_at) ", ran " (cells::seconds(results.run.elapsed_s))
                    @if results.run.interrupted { " (interrupted)" } }
                dt { "target" } dd { (scenario.target) }
                dt { "SLO" } dd { (cells::objective(scenario.slo_availability)) " availability over " (cells::period(scenario.slo_period_s)) }
                dt { "load" } dd { (results.generator.sent) " requests sent; start lag p99 "
                    (cells::optional(results.generator.lag_ms.map(|p| p.p99 / 1000.0), cells::seconds))
                    @if results.generator.threads > 1 { "; " (results.generator.threads) " load threads" } }
                dt { "noise floor" } dd { (noise_floor(results)) }
                dt { "wiring" } dd { (wiring(results)) }
            }
            @for note in cells::stop_notes(results) { p.problem { (note) } }
            @for note in cells::provenance(results) { p.note { (note) } }
            @for problem in &results.generator.problems {
                p.problem { strong { "The run is invalid — the load generator fell behind: " } (problem) }
            }
        }
    }
}

/// The harness's own floor under the figures, or how to measure it.
fn noise_floor(results: &Results) -> Markup {
    match &results.calibration {
        Some(floor) => html! { (floor.describe()) },
        None => html! { "not measured in this run (" code { "chaos run --calibrate" } " measures it)" },
    }
}

/// What the preflight found of the target's wiring to the interposers.
fn wiring(results: &Results) -> Markup {
    match &results.preflight {
        Some(preflight) => html! { "preflight: " (preflight.describe()) },
        None => html! { "no preflight (the built-in client, or " code { "--no-preflight" } ")" },
    }
}

/// The chart data as JSON that cannot end its `<script>` element early.
fn chart_json(results: &Results) -> String {
    let json = serde_json::to_string(&chart_data(results)).unwrap_or_else(|_| "{}".to_owned());
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_results_render_the_same_bytes() {
        let results = crate::test_support::results();
        let first = render_html(&results);
        assert_eq!(first, render_html(&results));
        let back: Results = serde_json::from_str(&serde_json::to_string(&results).unwrap()).unwrap();
        assert_eq!(first, render_html(&back), "read back from results.json, it renders the same");
    }

    #[test]
    fn the_page_needs_nothing_from_the_network() {
        let page = render_html(&crate::test_support::results());
        assert!(!page.contains(" src=") && !page.contains(" href="), "nothing is loaded from elsewhere");
        // uPlot's licence comment names its home page; nothing else may name an address.
        let html = page.replace(UPLOT_JS, "");
        for remote in ["http://", "https://", "//cdn"] {
            let found =
                html.match_indices(remote).map(|(at, _)| &html[at.saturating_sub(40)..at + 40]).next();
            assert!(found.is_none(), "{remote}: {found:?}");
        }
        assert!(
            html.contains("id=\"verdict\" class=\"fail\" data-verdict=\"fail\">FAIL<"),
            "the fixture fails"
        );
    }

    #[test]
    fn a_thirty_minute_run_renders_under_two_megabytes() {
        use crate::{metrics::Outcome, test_support};
        let phases =
            "  - { name: before, duration: 10m }\n  - name: during\n    duration: 10m\n    faults:\n      \
                      openai: [{ status: 503 }]\n  - { name: after, duration: 10m }";
        let plan = test_support::plan(phases, "");
        let mut logical = test_support::requests(0, 1800, Outcome::Ok);
        // Every outcome the charts stack, spread over the run, with latencies that vary.
        for (index, request) in logical.iter_mut().enumerate() {
            request.finished += std::time::Duration::from_micros((index as u64 * 7919) % 900_000);
            request.outcome = match index % 50 {
                0 => Outcome::HttpError(503),
                1 => Outcome::HttpError(429),
                2 => Outcome::Timeout,
                3 => Outcome::StreamCut,
                _ => Outcome::Ok,
            };
        }
        let results = test_support::results_of(&plan, logical);
        assert_eq!(
            results.timeline.len(),
            1801,
            "a second of finished requests for every second of 30 minutes"
        );
        let size = render_html(&results).len();
        println!("report.html of a 30-minute run: {size} bytes");
        assert!(size < 2_000_000, "{size} bytes");
    }

    #[test]
    fn scenario_text_cannot_close_the_data_script() {
        let mut results = crate::test_support::results();
        results.phases[0].name = "</script><script>alert(1)</script>".to_owned();
        let html = render_html(&results);
        assert_eq!(html.matches("</script>").count(), 3, "only the page's own three scripts close");
    }
}
