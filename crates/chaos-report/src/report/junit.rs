//! `junit.xml`: one `<testcase>` per expectation, so CI systems that read JUnit reports show
//! each one; a failed expectation carries a `<failure>`, an inconclusive one `<skipped>`.
//!
//! Written by hand: a dozen elements do not need an XML crate, and [`escape`] covers every
//! character a scenario's text can bring (markup characters, quotes, and the control
//! characters XML 1.0 cannot hold at all).

use std::fmt::Write;

use super::cells;
use crate::results::{Check, CheckStatus, Results};

/// Renders `junit.xml` from the results.
pub fn render_junit(results: &Results) -> String {
    let count = |status: CheckStatus| results.expectations.iter().filter(|c| c.status == status).count();
    let totals = format!(
        r#"tests="{}" failures="{}" errors="0" skipped="{}" time="{:.3}""#,
        results.expectations.len(),
        count(CheckStatus::Fail),
        count(CheckStatus::Inconclusive),
        results.run.elapsed_s,
    );
    let scenario = escape(&results.scenario.name);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, r#"<testsuites name="chaos" {totals}>"#);
    let _ = writeln!(out, r#"  <testsuite name="{scenario}" {totals}>"#);
    out.push_str("    <properties>\n");
    let properties = [
        ("verdict", cells::verdict(results.verdict).to_lowercase()),
        ("scenario_file", results.scenario.file.clone()),
        ("seed", results.scenario.seed.to_string()),
        ("started_at", results.run.started_at.clone()),
        ("harness_version", results.harness_version.clone()),
    ];
    for (name, value) in properties {
        let _ = writeln!(out, r#"      <property name="{name}" value="{}"/>"#, escape(&value));
    }
    out.push_str("    </properties>\n");
    for check in &results.expectations {
        write_testcase(&mut out, &scenario, check);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn write_testcase(out: &mut String, scenario: &str, check: &Check) {
    let name = escape(&check.expectation.text);
    let head = format!(r#"    <testcase name="{name}" classname="{scenario}""#);
    match check.status {
        CheckStatus::Pass => {
            let _ = writeln!(out, "{head}/>");
        }
        CheckStatus::Fail => {
            let observed = escape(&cells::observed(check));
            let _ = writeln!(out, "{head}>");
            let _ = writeln!(
                out,
                r#"      <failure message="observed {observed}, expected {name}" type="expectation">observed {observed} over {} requests; expected {name}</failure>"#,
                check.events
            );
            out.push_str("    </testcase>\n");
        }
        CheckStatus::Inconclusive => {
            let _ = writeln!(out, "{head}>");
            let _ =
                writeln!(out, r#"      <skipped message="{}"/>"#, escape(&cells::inconclusive_reason(check)));
            out.push_str("    </testcase>\n");
        }
    }
}

/// Text made safe for XML content and attribute values: markup characters and quotes become
/// entities, line breaks and tabs character references (so attributes keep them), and the
/// characters XML 1.0 cannot represent become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\r' | '\t' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of the `<testcase>` whose name contains `name`, through its end.
    fn testcase<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
        let mut lines = xml.lines().skip_while(|line| !(line.contains("<testcase") && line.contains(name)));
        let first = lines.next().unwrap_or_else(|| panic!("no testcase {name} in\n{xml}"));
        if first.ends_with("/>") {
            return vec![first];
        }
        std::iter::once(first).chain(lines.take_while(|line| !line.contains("</testcase>"))).collect()
    }

    #[test]
    fn a_failed_expectation_carries_a_failure() {
        let xml = render_junit(&crate::test_support::results());
        let failed = testcase(&xml, "burn_rate{phase=down}");
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(
            failed[1].contains(
                r#"<failure message="observed 100.00, expected burn_rate{phase=down} &lt; 14.4" type="expectation">"#
            ),
            "{}",
            failed[1]
        );
        assert!(failed[1].contains("observed 100.00 over 20 requests"), "{}", failed[1]);
    }

    #[test]
    fn an_inconclusive_expectation_is_skipped() {
        let xml = render_junit(&crate::test_support::results());
        let skipped = testcase(&xml, "p99{phase=blip}");
        assert_eq!(
            skipped[1].trim(),
            r#"<skipped message="inconclusive: 10 requests in the window, fewer than the 20 a verdict needs"/>"#
        );
    }

    #[test]
    fn a_passed_expectation_is_a_bare_testcase_and_the_totals_add_up() {
        let xml = render_junit(&crate::test_support::results());
        let passed = testcase(&xml, "availability{phase=calm}");
        assert_eq!(passed, [r#"    <testcase name="availability{phase=calm} &gt;= 99.9%" classname="t"/>"#]);
        let totals = r#"tests="3" failures="1" errors="0" skipped="1" time="5.500""#;
        assert!(xml.contains(&format!(r#"<testsuites name="chaos" {totals}>"#)), "{xml}");
        assert!(xml.contains(&format!(r#"<testsuite name="t" {totals}>"#)), "{xml}");
        assert!(xml.contains(r#"<property name="verdict" value="fail"/>"#), "{xml}");
    }

    #[test]
    fn scenario_text_is_escaped() {
        let mut results = crate::test_support::results();
        results.scenario.name = "a&b <\"c\"> 'd'\nnext\u{1}".to_owned();
        let xml = render_junit(&results);
        let escaped = "a&amp;b &lt;&quot;c&quot;&gt; &apos;d&apos;&#10;next\u{FFFD}";
        assert!(xml.contains(&format!(r#"<testsuite name="{escaped}" "#)), "{xml}");
        assert!(xml.contains(&format!(r#"classname="{escaped}""#)), "{xml}");
        assert_eq!(escape("plain text, 99.9%"), "plain text, 99.9%");
    }
}
