//! How often a matching fault fires: `first: N` (only the first N matching requests),
//! `after: N` (only after the first N), `every: N` (every Nth), and a probability drawn per
//! request. All given conditions must hold; counts are of requests the fault matched.

/// Dosing of one fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    /// Chance per request, in `0..=1`.
    pub probability: f64,
    pub first: Option<u64>,
    pub after: Option<u64>,
    pub every: Option<u64>,
}

impl Default for Dose {
    fn default() -> Self {
        Dose { probability: 1.0, first: None, after: None, every: None }
    }
}

impl Dose {
    /// Whether the `n`th matching request (from 1) is eligible, before the probability draw.
    pub fn admits(&self, n: u64) -> bool {
        self.first.is_none_or(|first| n <= first)
            && self.after.is_none_or(|after| n > after)
            && self.every.is_none_or(|every| every > 0 && n.is_multiple_of(every))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(dose: Dose) -> Vec<u64> {
        (1..=12).filter(|n| dose.admits(*n)).collect()
    }

    #[test]
    fn first_after_and_every_pick_requests_by_count() {
        assert_eq!(admitted(Dose { first: Some(3), ..Dose::default() }), [1, 2, 3]);
        assert_eq!(admitted(Dose { after: Some(10), ..Dose::default() }), [11, 12]);
        assert_eq!(admitted(Dose { every: Some(4), ..Dose::default() }), [4, 8, 12]);
        assert_eq!(
            admitted(Dose { after: Some(2), every: Some(3), first: Some(9), ..Dose::default() }),
            [3, 6, 9]
        );
        assert_eq!(admitted(Dose::default()).len(), 12);
    }
}
