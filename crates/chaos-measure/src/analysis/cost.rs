//! What a window's attempts cost: the tokens billed to each (failed and cut attempts included:
//! providers bill what they generated) × its model's price, summed; and the price each model
//! was charged at, with the table it came from, for `results.json`.
//!
//! A cost is only given when every billed attempt could be priced: an attempt of a model without
//! a price (or with unknown tokens) makes the window's cost unknown rather than low, and is
//! counted in `unpriced_attempts` so the scenario's `prices:` can name the model.

pub use crate::results::AppliedPrice;

use super::prices::{PriceBook, PriceSource, DEFAULT_TABLE_SOURCE};
use crate::metrics::ModelTokens;

/// The cost figures of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Share of the billed tokens that were estimated, not reported by the answers.
    pub estimated_share: Option<f64>,
    /// US dollars; `None` when some billed attempt could not be priced.
    pub usd: Option<f64>,
    /// US dollars of the attempts that could be priced (all of them when `usd` is known).
    pub priced_usd: f64,
    pub unpriced_attempts: u64,
}

/// Prices `tokens`.
pub fn cost(tokens: &ModelTokens, book: PriceBook<'_>) -> Cost {
    let total = tokens.total();
    let mut usd = 0.0;
    let mut unpriced_attempts = total.unknown_attempts;
    for (model, tally) in &tokens.0 {
        match model.as_deref().and_then(|model| book.price(model)) {
            Some((price, _)) => usd += tally.input as f64 * price.input + tally.output as f64 * price.output,
            None => unpriced_attempts += tally.billed_attempts,
        }
    }
    let billed = total.input + total.output;
    Cost {
        input_tokens: total.input,
        output_tokens: total.output,
        estimated_share: (billed > 0).then(|| total.estimated as f64 / billed as f64),
        usd: (unpriced_attempts == 0).then_some(usd),
        priced_usd: usd,
        unpriced_attempts,
    }
}

/// The price of every model billed in `tokens`.
pub fn applied_prices(tokens: &ModelTokens, book: PriceBook<'_>) -> Vec<AppliedPrice> {
    let models = tokens.0.keys().flatten();
    models
        .map(|model| {
            let price = book.price(model);
            AppliedPrice {
                model: model.clone(),
                input_usd_per_million: price.map(|(p, _)| p.input * 1e6),
                output_usd_per_million: price.map(|(p, _)| p.output * 1e6),
                source: price.map(|(_, source)| match source {
                    PriceSource::Scenario => "scenario".to_owned(),
                    PriceSource::Default => DEFAULT_TABLE_SOURCE.to_owned(),
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{metrics::TokenTally, scenario::plan::ModelPrice};

    fn tally(billed_attempts: u64, input: u64, output: u64, estimated: u64) -> TokenTally {
        TokenTally { billed_attempts, unknown_attempts: 0, input, output, estimated }
    }

    fn tokens(entries: &[(Option<&str>, TokenTally)]) -> ModelTokens {
        ModelTokens(entries.iter().map(|(model, tally)| (model.map(str::to_owned), *tally)).collect())
    }

    fn scenario() -> BTreeMap<String, ModelPrice> {
        BTreeMap::from([("house-model".to_owned(), ModelPrice { input: 1e-6, output: 10e-6 })])
    }

    #[test]
    fn tokens_times_each_models_price() {
        let prices = scenario();
        let book = PriceBook { scenario: &prices };
        let billed = tokens(&[
            (Some("house-model"), tally(2, 200, 13, 103)),
            (Some("gpt-4o-mini"), tally(1, 1_000_000, 0, 0)),
        ]);
        let cost = cost(&billed, book);
        assert_eq!((cost.input_tokens, cost.output_tokens, cost.unpriced_attempts), (1_000_200, 13, 0));
        let usd = cost.usd.expect("priced");
        assert!((usd - (200e-6 + 130e-6 + 0.15)).abs() < 1e-12, "{usd}");
        assert!((cost.estimated_share.expect("tokens") - 103.0 / 1_000_213.0).abs() < 1e-12);
    }

    #[test]
    fn an_unpriced_or_unknown_attempt_makes_the_cost_unknown() {
        let prices = scenario();
        let book = PriceBook { scenario: &prices };
        let unpriced =
            tokens(&[(Some("house-model"), tally(1, 10, 10, 0)), (Some("mystery"), tally(2, 5, 5, 0))]);
        assert_eq!((cost(&unpriced, book).usd, cost(&unpriced, book).unpriced_attempts), (None, 2));
        assert!((cost(&unpriced, book).priced_usd - 110e-6).abs() < 1e-12, "the priced part still counts");
        let unknown = TokenTally { unknown_attempts: 1, ..TokenTally::default() };
        assert_eq!(cost(&tokens(&[(None, unknown)]), book).unpriced_attempts, 1);
        let nothing = cost(&ModelTokens::default(), book);
        assert_eq!((nothing.usd, nothing.estimated_share), (Some(0.0), None));
    }

    #[test]
    fn applied_prices_say_where_each_came_from() {
        let prices = scenario();
        let book = PriceBook { scenario: &prices };
        let billed = tokens(&[
            (Some("house-model"), tally(1, 1, 1, 0)),
            (Some("gpt-4o"), tally(1, 1, 1, 0)),
            (Some("mystery"), tally(1, 1, 1, 0)),
            (None, tally(1, 1, 1, 0)),
        ]);
        let applied = applied_prices(&billed, book);
        let sources: Vec<(&str, Option<&str>)> =
            applied.iter().map(|p| (p.model.as_str(), p.source.as_deref())).collect();
        assert_eq!(
            sources,
            [("gpt-4o", Some(DEFAULT_TABLE_SOURCE)), ("house-model", Some("scenario")), ("mystery", None)]
        );
        assert_eq!(applied[1].output_usd_per_million, Some(10.0));
    }
}
