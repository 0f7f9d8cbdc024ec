//! `hang`: accept the request and never answer — for good (until the target gives up), or for
//! a while and then close the connection with no answer.

use std::time::Duration;

use super::{ConnectionFault, Decision, RequestView};

/// Holds the request without answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HangFault {
    /// `None`: never answer; otherwise close without an answer after this long.
    pub duration: Option<Duration>,
}

impl HangFault {
    pub fn on_request(&self, _request: &RequestView<'_>) -> Decision {
        Decision::Connection(ConnectionFault::Hang(self.duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangs_for_its_duration_or_forever() {
        let request = RequestView::default();
        let forever = HangFault { duration: None };
        assert_eq!(forever.on_request(&request), Decision::Connection(ConnectionFault::Hang(None)));
        let bounded = HangFault { duration: Some(Duration::from_secs(30)) };
        assert_eq!(
            bounded.on_request(&request),
            Decision::Connection(ConnectionFault::Hang(Some(Duration::from_secs(30))))
        );
    }
}
