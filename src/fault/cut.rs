//! `cut`: the stream ends after N events, without its terminator (`[DONE]`, `message_stop`).
//! The HTTP body ends normally, so SDKs that do not check for the terminator return a short
//! answer without any error — the silent failure this fault exists to expose.

use super::EventAction;
use crate::wire::sse_split::SseEvent;

/// Ends the stream after `after_events` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutFault {
    pub after_events: u64,
}

impl CutFault {
    pub fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        if event.index >= self.after_events {
            EventAction::End
        } else {
            EventAction::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_at_the_nth_event() {
        let fault = CutFault { after_events: 3 };
        let at = |index| SseEvent { index, bytes: b"data: {}\n\n" };
        assert_eq!(fault.on_event(&at(2)), EventAction::Pass);
        assert_eq!(fault.on_event(&at(3)), EventAction::End);
    }
}
