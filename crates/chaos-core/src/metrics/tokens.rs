//! Tokens billed to attempts, tallied per model (the price depends on it), so that analysis can
//! price them afterwards. Folding keeps one tally per model seen, never one per attempt. In
//! `results.json` the tallies are a list, one entry per model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::AttemptRecord;

/// Tokens billed to the attempts of one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenTally {
    /// Attempts billed at least one token.
    pub billed_attempts: u64,
    /// Attempts whose tokens could not be known.
    pub unknown_attempts: u64,
    pub input: u64,
    pub output: u64,
    /// Of `input + output`, tokens an attempt's answer did not report (estimated).
    pub estimated: u64,
}

impl TokenTally {
    fn merge(&mut self, other: &TokenTally) {
        self.billed_attempts += other.billed_attempts;
        self.unknown_attempts += other.unknown_attempts;
        self.input += other.input;
        self.output += other.output;
        self.estimated += other.estimated;
    }
}

/// Token tallies by requested model (`None`: the model was not known).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<ModelTally>", into = "Vec<ModelTally>")]
pub struct ModelTokens(pub BTreeMap<Option<String>, TokenTally>);

/// One model's tokens, as `results.json` lists them.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelTally {
    /// The requested model; `None` when it was not known.
    pub model: Option<String>,
    #[serde(flatten)]
    pub tally: TokenTally,
}

impl From<Vec<ModelTally>> for ModelTokens {
    fn from(list: Vec<ModelTally>) -> Self {
        let mut tokens = ModelTokens::default();
        for entry in list {
            tokens.0.entry(entry.model).or_default().merge(&entry.tally);
        }
        tokens
    }
}

impl From<ModelTokens> for Vec<ModelTally> {
    fn from(tokens: ModelTokens) -> Self {
        tokens.0.into_iter().map(|(model, tally)| ModelTally { model, tally }).collect()
    }
}

/// Tallies added up, model by model.
impl<'a> FromIterator<&'a ModelTokens> for ModelTokens {
    fn from_iter<I: IntoIterator<Item = &'a ModelTokens>>(tallies: I) -> Self {
        let mut sum = ModelTokens::default();
        for tokens in tallies {
            sum.merge(tokens);
        }
        sum
    }
}

impl ModelTokens {
    /// Adds one attempt's tokens; an attempt that billed nothing leaves no trace.
    pub fn add(&mut self, attempt: &AttemptRecord) {
        let billed = attempt.usage.filter(|usage| usage.input + usage.output > 0);
        if attempt.usage.is_some() && billed.is_none() {
            return;
        }
        // The model is copied only the first time it is seen (every attempt is added).
        let tally = match self.0.get_mut(&attempt.model) {
            Some(tally) => tally,
            None => self.0.entry(attempt.model.clone()).or_default(),
        };
        match billed {
            Some(usage) => {
                tally.billed_attempts += 1;
                tally.input += usage.input;
                tally.output += usage.output;
                if usage.estimated {
                    tally.estimated += usage.input + usage.output;
                }
            }
            None => tally.unknown_attempts += 1,
        }
    }

    pub fn merge(&mut self, other: &ModelTokens) {
        for (model, tally) in &other.0 {
            self.0.entry(model.clone()).or_default().merge(tally);
        }
    }

    /// Every model's tallies summed.
    pub fn total(&self) -> TokenTally {
        let mut total = TokenTally::default();
        for tally in self.0.values() {
            total.merge(tally);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::TokenUsage;

    fn attempt(model: Option<&str>, usage: Option<TokenUsage>) -> AttemptRecord {
        let mut record = AttemptRecord::arrived(0, 0, None, Duration::ZERO, Vec::new());
        record.model = model.map(str::to_owned);
        record.usage = usage;
        record
    }

    #[test]
    fn tallies_per_model_with_estimates_and_unknowns_apart() {
        let mut tokens = ModelTokens::default();
        let exact = TokenUsage { input: 100, output: 10, estimated: false };
        let cut = TokenUsage { input: 100, output: 3, estimated: true };
        tokens.add(&attempt(Some("gpt-4o-mini"), Some(exact)));
        tokens.add(&attempt(Some("gpt-4o-mini"), Some(cut)));
        tokens.add(&attempt(Some("gpt-4o-mini"), Some(TokenUsage::NONE)));
        tokens.add(&attempt(None, None));
        tokens.add(&attempt(None, Some(TokenUsage::NONE)));
        let mini = tokens.0[&Some("gpt-4o-mini".to_owned())];
        assert_eq!(
            mini,
            TokenTally { billed_attempts: 2, unknown_attempts: 0, input: 200, output: 13, estimated: 103 }
        );
        assert_eq!(tokens.0[&None], TokenTally { unknown_attempts: 1, ..TokenTally::default() });
        let mut merged = tokens.clone();
        merged.merge(&tokens);
        assert_eq!(merged.total().input, 400);
        assert_eq!(merged.total().unknown_attempts, 2);
        let json = serde_json::to_string(&tokens).expect("serializes");
        assert!(json.starts_with(r#"[{"model":null,"#), "{json}");
        assert_eq!(serde_json::from_str::<ModelTokens>(&json).expect("reads back"), tokens);
    }
}
