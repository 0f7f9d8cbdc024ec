//! The report's table of figures per key of the target's key pool: each key by its name and
//! fingerprint (never its value), its requests, availability, 429s and latency.

use maud::{html, Markup};

use crate::{
    report::cells::{self, optional},
    results::Results,
};

/// One row per key, or nothing when the target had no key pool.
pub fn keys(results: &Results) -> Markup {
    const HEADINGS: [&str; 6] = ["requests", "successes", "availability", "429s", "p50", "p99"];
    let seconds = |ms: Option<f64>| optional(ms.map(|ms| ms / 1000.0), cells::seconds);
    html! {
        @if !results.keys.is_empty() {
            section #keys-section {
                h2 { "Keys" }
                p.hint { "The target's key pool, request by request in turn. Keys are named by variable or line, with the first digits of their SHA-256." }
                table #keys {
                    thead { tr { th { "key" } th { "fingerprint" } @for heading in HEADINGS { th.num { (heading) } } } }
                    tbody {
                        @for key in &results.keys {
                            tr {
                                td { (key.name) }
                                td { code { (key.fingerprint) } }
                                td.num { (key.logical_requests) }
                                td.num { (key.successes) }
                                td.num { (optional(key.availability, cells::percent)) }
                                td.num { (key.http_429) }
                                td.num { (seconds(key.latency_ms.map(|p| p.p50))) }
                                td.num { (seconds(key.latency_ms.map(|p| p.p99))) }
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
    use crate::results::KeyFigures;

    #[test]
    fn each_key_is_a_row_by_name_and_fingerprint() {
        let mut results = crate::test_support::results();
        assert!(keys(&results).into_string().is_empty(), "no pool, no table");
        results.keys.push(KeyFigures {
            name: "TEAM_B_KEY".to_owned(),
            fingerprint: "sha256:0a1b2c3d".to_owned(),
            logical_requests: 10,
            successes: 6,
            failures: 4,
            availability: Some(0.6),
            http_429: 4,
            latency_ms: None,
            outcomes: Default::default(),
        });
        let html = keys(&results).into_string();
        assert!(
            html.contains("<td>TEAM_B_KEY</td><td><code>sha256:0a1b2c3d</code></td><td class=\"num\">10</td><td class=\"num\">6</td><td class=\"num\">60.00%</td><td class=\"num\">4</td>"),
            "{html}"
        );
    }
}
