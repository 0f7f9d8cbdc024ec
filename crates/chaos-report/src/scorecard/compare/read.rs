//! The cards a comparison reads: each one's text checked to be a `scorecard.json` of the schema
//! version this harness knows, then the cards checked against each other. Grades of another
//! suite or rubric version rest on other thresholds: such cards are refused, or with
//! `--allow-mixed` compared under a note that says so. A quick suite beside a full one is
//! compared under a note (the same thresholds, shorter phases).

use crate::scorecard::{Scorecard, SCORECARD_VERSION};

/// The card in `text`, or why it cannot be compared (the caller names the file).
pub fn card(text: &str) -> Result<Scorecard, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("not JSON ({error})"))?;
    match value.get("schema_version").and_then(serde_json::Value::as_u64) {
        Some(version) if version == u64::from(SCORECARD_VERSION) => {}
        Some(version) => {
            return Err(format!(
            "a scorecard.json of schema version {version}; this chaos ({}) reads version {SCORECARD_VERSION}",
            env!("CARGO_PKG_VERSION")
        ))
        }
        None => return Err("not a scorecard.json: no schema_version".to_owned()),
    }
    serde_json::from_value(value).map_err(|error| format!("not a scorecard.json: {error}"))
}

/// The notes a comparison of `cards` carries, or the refusal naming the file whose suite or
/// rubric differs from the first card's, unless `allow_mixed`.
pub fn comparable(cards: &[(String, Scorecard)], allow_mixed: bool) -> Result<Vec<String>, String> {
    let Some((first_file, first)) = cards.first() else { return Ok(Vec::new()) };
    let mut notes = Vec::new();
    for (file, card) in &cards[1..] {
        if card.suite != first.suite || card.rubric_version != first.rubric_version {
            let what = format!(
                "{file}: suite {} rubric v{}, but {first_file}: suite {} rubric v{}",
                card.suite, card.rubric_version, first.suite, first.rubric_version
            );
            if !allow_mixed {
                return Err(format!(
                    "{what}; grades of different rubrics rest on different thresholds (--allow-mixed to compare them anyway, labelled)"
                ));
            }
            notes.push(format!("not like for like: {what}; a grade rests on different thresholds"));
        }
    }
    if cards.iter().any(|(_, card)| card.quick != first.quick) {
        let quick: Vec<&str> =
            cards.iter().filter(|(_, card)| card.quick).map(|(file, _)| file.as_str()).collect();
        notes.push(format!(
            "quick and full suites mixed ({} quick): the same thresholds over shorter phases",
            quick.join(", ")
        ));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::{compare::tests::card as made, Grade};

    fn pair(second: Scorecard) -> Vec<(String, Scorecard)> {
        vec![("a.json".to_owned(), made("gw", &[])), ("b.json".to_owned(), second)]
    }

    #[test]
    fn a_card_of_an_unknown_schema_version_is_refused_by_its_version() {
        let mut text = serde_json::to_value(made("gw", &[("quota", Grade::A, Some(1.0))])).unwrap();
        assert!(card(&text.to_string()).is_ok());
        text["schema_version"] = serde_json::json!(SCORECARD_VERSION + 1);
        text["dimensions"] = serde_json::json!("a shape this version does not know");
        let refusal = card(&text.to_string()).unwrap_err();
        assert!(refusal.contains(&format!("schema version {}", SCORECARD_VERSION + 1)), "{refusal}");
        assert!(card(r#"{"verdict": "pass"}"#).unwrap_err().contains("no schema_version"));
        assert!(card("[1,").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn another_rubric_is_refused_naming_the_file_unless_allowed_and_then_noted() {
        let mut other = made("gw", &[]);
        other.rubric_version += 1;
        let refusal = comparable(&pair(other.clone()), false).unwrap_err();
        assert!(
            refusal.starts_with(&format!("b.json: suite standard rubric v{}", other.rubric_version))
                && refusal.contains("a.json"),
            "{refusal}"
        );
        let notes = comparable(&pair(other.clone()), true).unwrap();
        assert!(notes.len() == 1 && notes[0].starts_with("not like for like: b.json"), "{notes:?}");
        assert_eq!(comparable(&pair(made("other", &[])), false), Ok(Vec::new()));
    }

    #[test]
    fn a_full_suite_beside_a_quick_one_is_noted() {
        let mut full = made("gw", &[]);
        full.quick = false;
        let notes = comparable(&pair(full), false).unwrap();
        assert_eq!(
            notes,
            ["quick and full suites mixed (a.json quick): the same thresholds over shorter phases"]
        );
    }
}
