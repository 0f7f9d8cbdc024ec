//! `stall`: after N events the stream stops moving, for a while or for good. The connection
//! stays open: the client sees a stream that stalls mid-answer. With `in: tool_arguments` it
//! counts only tool-call argument fragments ([`EventScope`]): a call stalls half-written.

use std::time::Duration;

use rand::rngs::StdRng;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Decision, EventAction, EventScope, Fault, FaultContext, RequestView};
use crate::{located::Checked, speed::Speed, units::HumanDuration, wire::sse_split::SseEvent};

/// `stall: { after_events: 10, for: 30s }`; without `for`, the stream stalls for good.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStall {
    pub after_events: u64,
    #[serde(default, rename = "for")]
    pub duration: Option<HumanDuration>,
    /// Which events `after_events` counts: every event (the default) or `tool_arguments`.
    #[serde(default, rename = "in")]
    pub scope: EventScope,
}

/// Holds the stream after `after_events` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallFault {
    pub after_events: u64,
    /// How long to hold it; `None` holds it until the target gives up.
    pub duration: Option<Duration>,
    pub scope: EventScope,
}

impl Fault for StallFault {
    const NAME: &'static str = "stall";
    const EXAMPLE: &'static str = "`stall: { after_events: 10, for: 30s }`";
    type Raw = RawStall;
    type Options = ();

    fn check(raw: &Spanned<RawStall>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        let after_events = crate::raw::counted(raw.value.after_events, "after_events", &raw.referenced)?;
        Ok(StallFault { after_events, duration: raw.value.duration.map(|d| d.0), scope: raw.value.scope })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        StallFault { duration: self.duration.map(|d| speed.time(d)), ..self.clone() }
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        match (self.scope.position(event) == Some(self.after_events), self.duration) {
            (false, _) => EventAction::Pass,
            (true, Some(duration)) => EventAction::Delay(duration),
            (true, None) => EventAction::Hang,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(index: u64) -> SseEvent<'static> {
        SseEvent { index, bytes: b"data: {}\n\n", tool_argument: None }
    }

    #[test]
    fn stalls_once_at_the_nth_event() {
        let fault = StallFault { after_events: 10, duration: Some(Duration::from_secs(30)), scope: EventScope::Events };
        assert_eq!(fault.on_event(&at(9)), EventAction::Pass);
        assert_eq!(fault.on_event(&at(10)), EventAction::Delay(Duration::from_secs(30)));
        assert_eq!(fault.on_event(&at(11)), EventAction::Pass);
        let forever = StallFault { after_events: 0, duration: None, scope: EventScope::Events };
        assert_eq!(forever.on_event(&at(0)), EventAction::Hang);
    }
}
