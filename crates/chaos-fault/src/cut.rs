//! `cut`: the stream ends after N events, without its terminator (`[DONE]`, `message_stop`).
//! The HTTP body ends normally, so SDKs that do not check for the terminator return a short
//! answer without any error — the silent failure this fault exists to expose.

use rand::rngs::StdRng;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Decision, EventAction, Fault, FaultContext, RequestView};
use crate::{located::Checked, speed::Speed, wire::sse_split::SseEvent};

/// `cut: { after_events: 10 }`
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAfterEvents {
    pub after_events: u64,
}

/// Ends the stream after `after_events` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutFault {
    pub after_events: u64,
}

impl Fault for CutFault {
    const NAME: &'static str = "cut";
    const EXAMPLE: &'static str = "`cut: { after_events: 10 }`";
    type Raw = RawAfterEvents;
    type Options = ();

    fn check(raw: &Spanned<RawAfterEvents>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        Ok(CutFault { after_events: crate::raw::counted(raw.value.after_events, "after_events", &raw.referenced)? })
    }

    /// It states no time: a count of events or a kind, the same at any speed.
    fn at_speed(&self, _speed: Speed) -> Self {
        self.clone()
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
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
