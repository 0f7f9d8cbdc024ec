//! `drop`: removes one kind of event from a stream: OpenAI's `data: [DONE]` terminator, or its
//! final usage chunk (so the client never learns what the answer cost).

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{Decision, EventAction, Fault, FaultContext, RequestView};
use crate::{
    located::{choose, Checked, Located},
    speed::Speed,
    wire::sse_split::SseEvent,
};

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

impl Fault for DropFault {
    const NAME: &'static str = "drop";
    const EXAMPLE: &'static str = "`drop: done`";
    type Raw = String;
    type Options = ();

    fn check(what: &Spanned<String>, _options: &(), context: &FaultContext) -> Checked<Self> {
        let dropped =
            choose("event to drop", what, &[("done", DroppedEvent::Done), ("usage", DroppedEvent::Usage)])?;
        if !context.family.speaks_openai() {
            let message = format!(
                "`drop: {}` applies to OpenAI streams; an {} stream has no such event",
                what.value, context.family
            );
            return Err(Located::at(&what.referenced, message));
        }
        Ok(DropFault { what: dropped })
    }

    /// It states no time: a count of events or a kind, the same at any speed.
    fn at_speed(&self, _speed: Speed) -> Self {
        self.clone()
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn label(&self) -> String {
        format!("drop:{:?}", self.what).to_lowercase()
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
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
        let at = |bytes: &'static [u8]| SseEvent { index: 0, bytes, tool_argument: None };
        let done = DropFault { what: DroppedEvent::Done };
        assert_eq!(done.on_event(&at(b"data: [DONE]\n\n")), EventAction::Drop);
        assert_eq!(done.on_event(&at(b"data: {\"choices\":[]}\n\n")), EventAction::Pass);
        let usage = DropFault { what: DroppedEvent::Usage };
        assert_eq!(usage.on_event(&at(b"data: {\"choices\":[],\"usage\":{}}\n\n")), EventAction::Drop);
        assert_eq!(usage.on_event(&at(b"data: [DONE]\n\n")), EventAction::Pass);
    }
}
