//! The spend guard (`max_spend: $5`): a halt condition on the metered cost of every upstream's
//! answers so far, looked at with the others once a second. It holds once the spend reaches the
//! limit, or as soon as an answer could not be priced (a model with no price, tokens unknown):
//! a guard that cannot count would let a real provider's bill run on unseen.

use crate::analysis::cost::Cost;

/// How far below the limit a spend still reaches it: float sums of prices fall short by less.
const ROUNDING: f64 = 1e-9;

/// The guard's condition as results and the report show it, and the observed spend (US
/// dollars), when `spend` breaks `limit`.
pub fn breached(limit: f64, spend: &Cost) -> Option<(String, f64)> {
    let written = format!("max_spend: ${limit}");
    match spend.usd {
        // Within a billionth of a dollar: ten answers at $0.10 add up to 0.9999999999999999.
        Some(usd) if usd + ROUNDING >= limit => Some((written, usd)),
        Some(_) => None,
        None => Some((
            format!(
                "{written} (unguardable: {} answers of a model without a price; name it under `prices:`)",
                spend.unpriced_attempts
            ),
            spend.priced_usd,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spent(usd: Option<f64>, priced_usd: f64, unpriced_attempts: u64) -> Cost {
        Cost { input_tokens: 0, output_tokens: 0, estimated_share: None, usd, priced_usd, unpriced_attempts }
    }

    #[test]
    fn the_guard_holds_at_the_limit_or_when_the_spend_is_unknown() {
        assert_eq!(breached(5.0, &spent(Some(4.99), 4.99, 0)), None);
        assert_eq!(breached(5.0, &spent(Some(5.0), 5.0, 0)), Some(("max_spend: $5".to_owned(), 5.0)));
        assert_eq!(breached(0.5, &spent(Some(0.73), 0.73, 0)), Some(("max_spend: $0.5".to_owned(), 0.73)));
        let ten_dimes = (0..10).map(|_| 0.1).sum::<f64>();
        assert!(ten_dimes < 1.0, "the float sum falls short");
        assert!(breached(1.0, &spent(Some(ten_dimes), ten_dimes, 0)).is_some(), "yet reaches $1");
        let (condition, observed) = breached(5.0, &spent(None, 1.25, 3)).expect("unguardable");
        assert!(condition.starts_with("max_spend: $5 (unguardable: 3 answers of a model without a price"));
        assert_eq!(observed, 1.25);
    }
}
