//! The browser tier for the scorecard: the `scorecard.html` of a real quick suite (the
//! openai-python card the `scorecard` module grades) loaded in headless Chromium, as the
//! report's is. It must load with no console error and no request beyond the file, show every
//! dimension of `scorecard.json` as a row with the card's grade, draw each graded row's chart
//! at its size with both lines through every second of the card's evidence, and link each
//! graded row to its run's report. A full-page screenshot is left at
//! `target/browser-tier/scorecard.png`. Fails, never skips, without Chromium or npm.

use crate::{report_browser::seen_in_chromium, scorecard::openai_python};

#[test]
fn a_real_scorecard_shows_every_dimension_in_chromium() {
    let graded = openai_python();
    let (seen, screenshot) =
        seen_in_chromium("check-scorecard.mjs", &graded.out.join("scorecard.html"), "scorecard.png");

    assert_eq!(seen["errors"], serde_json::json!([]), "console errors");
    assert_eq!(seen["requests"], serde_json::json!([]), "the page asked the network for something");
    assert_eq!(seen["overall"], graded.card["overall"]);
    let dimensions = graded.card["dimensions"].as_array().expect("dimensions");
    let rows = seen["rows"].as_array().expect("rows");
    let ids = |rows: &[serde_json::Value]| rows.iter().map(|row| row["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(rows), ids(dimensions), "one row a dimension, in the card's order");
    for (row, dimension) in rows.iter().zip(dimensions) {
        assert_eq!(row["grade"], dimension["grade"], "{row}");
        assert_eq!(row["shown"], true, "{row}");
        if dimension["grade"] == "not graded" {
            continue;
        }
        let chart = &row["chart"];
        assert!(chart["width"].as_f64() >= Some(150.0) && chart["height"].as_f64() >= Some(30.0), "{row}");
        let points = chart["points"].as_array().expect("the chart's lines");
        assert_eq!(points.len(), 2, "the primary and the fallbacks: {row}");
        let seconds = dimension["evidence"].as_array().expect("evidence").len() as u64;
        assert!(seconds >= 2, "a line needs two seconds: {dimension}");
        assert!(points.iter().all(|count| count.as_u64() == Some(seconds)), "every second drawn: {row}");
        assert_eq!(row["report"], dimension["report"], "{row}");
    }
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
}
