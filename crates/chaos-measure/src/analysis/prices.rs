//! Prices per token: the scenario's `prices:` first, then a bundled default table of common
//! models. A dated snapshot (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-20250514`) costs what
//! its model does. A model in neither has no price: its attempts are counted as unpriced, never
//! guessed.
//!
//! The default table is compiled in (rather than a file beside the binary) so a run prices the
//! same wherever `chaos` is installed, and so its figures are checked by the tests below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scenario::plan::ModelPrice;

/// Where the default prices come from, and when they were read.
pub const DEFAULT_TABLE_SOURCE: &str = "chaos default table: https://openai.com/api/pricing/ and \
     https://docs.anthropic.com/en/docs/about-claude/pricing (standard tier, no caching or batch \
     discounts; embeddings models bill input tokens only), as of 2025-06-01; Azure OpenAI \
     deployments named after their model bill OpenAI's price (Global Standard, \
     https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/, as of \
     2025-06-01); Gemini from https://ai.google.dev/gemini-api/docs/pricing (paid tier, text, \
     prompts up to 200k tokens, 128k for 1.5), as of 2025-07-01; Bedrock model ids: \
     https://aws.amazon.com/bedrock/pricing/ (on-demand, US East (N. Virginia)), as of 2026-12-07; \
     cross-checked against LiteLLM's \
     model_prices_and_context_window.json";

/// Model, then US dollars per million input and output tokens (an embeddings model generates
/// no output: its output price is 0).
const DEFAULT_TABLE: &[(&str, f64, f64)] = &[
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("o3-mini", 1.10, 4.40),
    ("o4-mini", 1.10, 4.40),
    ("claude-opus-4", 15.00, 75.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("text-embedding-3-small", 0.02, 0.0),
    ("text-embedding-3-large", 0.13, 0.0),
    ("text-embedding-ada-002", 0.10, 0.0),
    // Bedrock's model ids, priced on their own: a fallback to Bedrock bills Bedrock's price.
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", 3.00, 15.00),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", 3.00, 15.00),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 4.00),
    ("anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
    ("amazon.nova-pro-v1:0", 0.80, 3.20),
    ("amazon.nova-lite-v1:0", 0.06, 0.24),
    ("amazon.nova-micro-v1:0", 0.035, 0.14),
    ("meta.llama3-8b-instruct-v1:0", 0.30, 0.60),
    ("meta.llama3-70b-instruct-v1:0", 2.65, 3.50),
    // Azure's own spelling of a model its deployments are often named after.
    ("gpt-35-turbo", 0.50, 1.50),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("gemini-2.5-flash", 0.30, 2.50),
    ("gemini-2.5-flash-lite", 0.10, 0.40),
    ("gemini-2.0-flash", 0.10, 0.40),
    ("gemini-2.0-flash-lite", 0.075, 0.30),
    ("gemini-1.5-pro", 1.25, 5.00),
    ("gemini-1.5-flash", 0.075, 0.30),
    ("gemini-1.5-flash-8b", 0.0375, 0.15),
];

/// Which table a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The scenario's `prices:`.
    Scenario,
    /// The bundled table ([`DEFAULT_TABLE_SOURCE`]).
    Default,
}

/// The scenario's prices over the default table.
#[derive(Debug, Clone, Copy)]
pub struct PriceBook<'a> {
    pub scenario: &'a BTreeMap<String, ModelPrice>,
}

impl PriceBook<'_> {
    /// The price of `model`, and where it came from.
    pub fn price(&self, model: &str) -> Option<(ModelPrice, PriceSource)> {
        let names = [Some(model), without_snapshot_date(model)];
        let scenario = names.iter().flatten().find_map(|name| self.scenario.get(*name));
        if let Some(price) = scenario {
            return Some((*price, PriceSource::Scenario));
        }
        names.iter().flatten().find_map(|name| default_price(name)).map(|price| (price, PriceSource::Default))
    }
}

fn default_price(model: &str) -> Option<ModelPrice> {
    DEFAULT_TABLE
        .iter()
        .find(|(name, _, _)| *name == model)
        .map(|(_, input, output)| ModelPrice { input: input / 1e6, output: output / 1e6 })
}

/// `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`; `claude-sonnet-4-20250514` → `claude-sonnet-4`.
fn without_snapshot_date(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (rest, last) = model.rsplit_once('-')?;
    if last.len() == 8 && digits(last) {
        return Some(rest);
    }
    let mut parts = model.rsplitn(4, '-');
    let (day, month, year, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let dated =
        [(year, 4), (month, 2), (day, 2)].iter().all(|(part, len)| part.len() == *len && digits(part));
    dated.then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn per_million(price: ModelPrice) -> (f64, f64) {
        ((price.input * 1e6 * 1e6).round() / 1e6, (price.output * 1e6 * 1e6).round() / 1e6)
    }

    #[test]
    fn bedrock_model_ids_have_bedrock_s_prices() {
        let scenario = BTreeMap::new();
        let book = PriceBook { scenario: &scenario };
        let price = |model: &str| book.price(model).map(|(price, _)| per_million(price));
        assert_eq!(price("anthropic.claude-3-5-sonnet-20240620-v1:0"), Some((3.0, 15.0)));
        assert_eq!(price("anthropic.claude-3-haiku-20240307-v1:0"), Some((0.25, 1.25)));
        assert_eq!(price("amazon.nova-micro-v1:0"), Some((0.035, 0.14)));
        assert_eq!(price("meta.llama3-70b-instruct-v1:0"), Some((2.65, 3.5)));
        assert_eq!(price("amazon.nova-micro-v2:0"), None, "another version is not guessed");
    }

    #[test]
    fn the_default_table_prices_common_models_and_their_dated_snapshots() {
        let none = BTreeMap::new();
        let book = PriceBook { scenario: &none };
        let (mini, source) = book.price("gpt-4o-mini").expect("priced");
        assert_eq!((per_million(mini), source), ((0.15, 0.60), PriceSource::Default));
        assert_eq!(book.price("gpt-4o-mini-2024-07-18").map(|(p, _)| per_million(p)), Some((0.15, 0.60)));
        assert_eq!(book.price("claude-sonnet-4-20250514").map(|(p, _)| per_million(p)), Some((3.0, 15.0)));
        assert_eq!(book.price("claude-3-5-haiku-latest"), None, "not a dated snapshot");
        assert_eq!(book.price("gpt-4o-mini-tts"), None, "another model, not gpt-4o-mini");
        assert_eq!(book.price("llama-3-70b"), None);
        let (small, _) = book.price("text-embedding-3-small").expect("embeddings priced");
        assert_eq!(per_million(small), (0.02, 0.0), "input only");
        assert_eq!(book.price("text-embedding-3-large").map(|(p, _)| per_million(p)), Some((0.13, 0.0)));
        assert_eq!(book.price("gpt-35-turbo").map(|(p, _)| per_million(p)), Some((0.5, 1.5)), "Azure's name");
        assert_eq!(book.price("gemini-2.0-flash").map(|(p, _)| per_million(p)), Some((0.1, 0.4)));
        assert_eq!(book.price("gemini-2.5-pro").map(|(p, _)| per_million(p)), Some((1.25, 10.0)));
        assert_eq!(book.price("gemini-1.5-flash-8b").map(|(p, _)| per_million(p)), Some((0.0375, 0.15)));
    }

    #[test]
    fn scenario_prices_override_the_default_table() {
        let scenario = BTreeMap::from([("gpt-4o-mini".to_owned(), ModelPrice { input: 1e-6, output: 2e-6 })]);
        let book = PriceBook { scenario: &scenario };
        let (price, source) = book.price("gpt-4o-mini-2024-07-18").expect("priced");
        assert_eq!((price, source), (ModelPrice { input: 1e-6, output: 2e-6 }, PriceSource::Scenario));
        assert_eq!(book.price("gpt-4o").map(|(_, source)| source), Some(PriceSource::Default));
    }

    #[test]
    fn every_default_price_is_positive_and_listed_once() {
        for (i, (name, input, output)) in DEFAULT_TABLE.iter().enumerate() {
            let embeddings = name.starts_with("text-embedding-");
            assert!(*input > 0.0 && (*output >= *input || embeddings && *output == 0.0), "{name}");
            assert!(DEFAULT_TABLE[i + 1..].iter().all(|(other, _, _)| other != name), "{name} twice");
            assert_eq!(without_snapshot_date(name), None, "{name} looks dated");
        }
    }
}
