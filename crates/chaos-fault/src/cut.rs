//! `cut`: the stream ends after N events, without its terminator (`[DONE]`, `message_stop`).
//! The HTTP body ends normally, so SDKs that do not check for the terminator return a short
//! answer without any error — the silent failure this fault exists to expose. With
//! `in: tool_arguments` it counts only tool-call argument fragments ([`EventScope`]), so the
//! cut lands inside a call's arguments.

use rand::rngs::StdRng;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Decision, EventAction, EventScope, Fault, FaultContext, RequestView};
use crate::{located::Checked, speed::Speed, wire::sse_split::SseEvent};

/// `cut: { after_events: 10 }`, `cut: { after_events: 2, in: tool_arguments }`
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAfterEvents {
    pub after_events: u64,
    /// Which events `after_events` counts: every event (the default) or `tool_arguments`.
    #[serde(default, rename = "in")]
    pub scope: EventScope,
}

/// Ends the stream after `after_events` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutFault {
    pub after_events: u64,
    pub scope: EventScope,
}

impl Fault for CutFault {
    const NAME: &'static str = "cut";
    const EXAMPLE: &'static str = "`cut: { after_events: 10 }`";
    type Raw = RawAfterEvents;
    type Options = ();

    fn check(raw: &Spanned<RawAfterEvents>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        let after_events = crate::raw::counted(raw.value.after_events, "after_events", &raw.referenced)?;
        Ok(CutFault { after_events, scope: raw.value.scope })
    }

    /// It states no time: a count of events or a kind, the same at any speed.
    fn at_speed(&self, _speed: Speed) -> Self {
        self.clone()
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        if self.scope.position(event).is_some_and(|at| at >= self.after_events) {
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
        let fault = CutFault { after_events: 3, scope: EventScope::Events };
        let at = |index| SseEvent { index, bytes: b"data: {}\n\n", tool_argument: None };
        assert_eq!(fault.on_event(&at(2)), EventAction::Pass);
        assert_eq!(fault.on_event(&at(3)), EventAction::End);
    }

    #[test]
    fn in_tool_arguments_ends_at_the_nth_fragment_only() {
        let fault = CutFault { after_events: 2, scope: EventScope::ToolArguments };
        let at = |index, tool_argument| SseEvent { index, bytes: b"data: {}\n\n", tool_argument };
        assert_eq!(fault.on_event(&at(9, None)), EventAction::Pass, "no fragment: not counted");
        assert_eq!(fault.on_event(&at(10, Some(1))), EventAction::Pass);
        assert_eq!(fault.on_event(&at(11, Some(2))), EventAction::End);
    }
}
