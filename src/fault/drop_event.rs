//! `drop`: removes one kind of event from a stream: OpenAI's `data: [DONE]` terminator, or its
//! final usage chunk (so the client never learns what the answer cost).

use super::EventAction;
use crate::wire::sse_split::SseEvent;

/// Which event to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DroppedEvent {
    Done,
    Usage,
}

/// Removes every event of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropFault {
    pub what: DroppedEvent,
}

impl DropFault {
    pub fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        let matches = match self.what {
            DroppedEvent::Done => event.is_done(),
            DroppedEvent::Usage => event.is_usage_chunk(),
        };
        if matches {
            EventAction::Drop
        } else {
            EventAction::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_its_kind() {
        let at = |bytes: &'static [u8]| SseEvent { index: 0, bytes };
        let done = DropFault { what: DroppedEvent::Done };
        assert_eq!(done.on_event(&at(b"data: [DONE]\n\n")), EventAction::Drop);
        assert_eq!(done.on_event(&at(b"data: {\"choices\":[]}\n\n")), EventAction::Pass);
        let usage = DropFault { what: DroppedEvent::Usage };
        assert_eq!(usage.on_event(&at(b"data: {\"choices\":[],\"usage\":{}}\n\n")), EventAction::Drop);
        assert_eq!(usage.on_event(&at(b"data: [DONE]\n\n")), EventAction::Pass);
    }
}
