//! Errors at a place in a YAML document: [`Located`] (line, column, message), the
//! [`Checked`] result every check after serde returns, and the name checks they share
//! ([`one_of`], [`choose`], [`closest`] for "did you mean"). It sits on the bottom floor so that
//! each fault's own checks (in `fault/`) and the scenario's (in `scenario/`) speak one error.

use serde_saphyr::{Location, Spanned};

/// A problem found at one place in the scenario, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Located {
    pub fn at(location: &Location, message: impl Into<String>) -> Self {
        Located {
            line: location.line().max(1) as u32,
            column: location.column().max(1) as u32,
            message: message.into(),
        }
    }

    /// Moves the column right by `offset` characters (a position inside a scalar).
    pub fn shifted(mut self, offset: usize) -> Self {
        self.column += offset as u32;
        self
    }
}

/// What a check after serde gives: the checked value, or where and why it is wrong.
pub type Checked<T> = Result<T, Located>;

/// The value `given` names among `options`, or [`one_of`]'s error.
pub fn choose<T: Copy>(what: &str, given: &Spanned<String>, options: &[(&str, T)]) -> Checked<T> {
    one_of(what, given, options.iter().map(|(name, _)| *name))?;
    Ok(options.iter().find(|(name, _)| *name == given.value).map_or(options[0].1, |(_, value)| *value))
}

/// Rejects a name not in `known`, suggesting the closest one.
pub fn one_of<'a>(
    what: &str,
    given: &Spanned<String>,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Checked<()> {
    if known.clone().into_iter().any(|k| k == given.value) {
        return Ok(());
    }
    let list: Vec<&str> = known.clone().into_iter().collect();
    let hint =
        closest(&given.value, known).map(|best| format!("did you mean `{best}`? ")).unwrap_or_default();
    Err(Located::at(
        &given.referenced,
        format!("unknown {what} `{}`; {hint}expected one of: {}", given.value, list.join(", ")),
    ))
}

/// The candidate nearest to `given` by edit distance, if it is near enough to be a typo.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = given.chars().count();
    let near_enough = |candidate: &str| (candidate.len() / 3).max(2);
    candidates
        .into_iter()
        // The distance is at least the difference in length: a name much longer or shorter
        // than a candidate is no typo of it, and is not compared (a megabyte-long name would
        // take seconds and a matrix of megabytes a candidate).
        .filter(|candidate| length.abs_diff(candidate.chars().count()) <= near_enough(candidate))
        .map(|candidate| (strsim::damerau_levenshtein(given, candidate), candidate))
        // Near enough to be a typo, and not a whole replacement (`c` is not a typo of `b`).
        .filter(|(distance, candidate)| *distance <= near_enough(candidate) && *distance < length)
        // Nearest first; on a tie, the longer shared prefix, then the later name (`p98` → `p99`).
        .min_by_key(|(distance, candidate)| {
            let prefix = given.chars().zip(candidate.chars()).take_while(|(a, b)| a == b).count();
            (*distance, std::cmp::Reverse(prefix), std::cmp::Reverse(*candidate))
        })
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_megabyte_long_name_is_no_typo_and_costs_no_edit_distance() {
        let given = "p".repeat(1 << 20);
        let started = std::time::Instant::now();
        assert_eq!(closest(&given, ["p99", "p50", "availability"]), None);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_millis(100), "took {took:?}");
        assert_eq!(closest("p98", ["p99", "p50"]), Some("p99"), "a typo is still found");
        assert_eq!(closest("availabilty", ["p99", "availability"]), Some("availability"));
    }
}
