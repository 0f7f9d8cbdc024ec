//! `reset`: answer the request with a TCP RST — the connection dies under the target.

use super::{ConnectionFault, Decision, RequestView};

/// Resets the connection instead of answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetFault;

impl ResetFault {
    pub fn on_request(&self, _request: &RequestView<'_>) -> Decision {
        Decision::Connection(ConnectionFault::Reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets() {
        assert_eq!(
            ResetFault.on_request(&RequestView::default()),
            Decision::Connection(ConnectionFault::Reset)
        );
    }
}
