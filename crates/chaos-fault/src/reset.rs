//! `reset`: answer the request with a TCP RST — the connection dies under the target.

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{ConnectionFault, Decision, Fault, FaultContext, RequestView};
use crate::{
    located::{Checked, Located},
    speed::Speed,
};

/// Resets the connection instead of answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetFault;

impl Fault for ResetFault {
    const NAME: &'static str = "reset";
    const EXAMPLE: &'static str = "`reset: true`";
    type Raw = bool;
    type Options = ();

    fn check(reset: &Spanned<bool>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        if !reset.value {
            return Err(Located::at(
                &reset.referenced,
                "`reset: false` does nothing; remove it, or write `reset: true`",
            ));
        }
        Ok(ResetFault)
    }

    /// It states no time: a count of events or a kind, the same at any speed.
    fn at_speed(&self, _speed: Speed) -> Self {
        self.clone()
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Connection(ConnectionFault::Reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets() {
        assert_eq!(
            ResetFault.on_request(&RequestView::default(), &mut rand::SeedableRng::seed_from_u64(0)),
            Decision::Connection(ConnectionFault::Reset)
        );
    }
}
