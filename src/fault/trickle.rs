//! `trickle`: every event is held back a little, so tokens arrive slowly (a degraded model).

use std::time::Duration;

use super::EventAction;
use crate::wire::sse_split::SseEvent;

/// Delays every event by `gap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrickleFault {
    pub gap: Duration,
}

impl TrickleFault {
    pub fn on_event(&self, _event: &SseEvent<'_>) -> EventAction {
        EventAction::Delay(self.gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_every_event() {
        let fault = TrickleFault { gap: Duration::from_millis(200) };
        for index in [0, 1, 50] {
            let event = SseEvent { index, bytes: b"data: {}\n\n" };
            assert_eq!(fault.on_event(&event), EventAction::Delay(Duration::from_millis(200)));
        }
    }
}
