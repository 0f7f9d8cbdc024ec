//! `latency`: a fixed delay added before the request goes on (before the response headers,
//! so it lands in time to first byte and first token).

use std::time::Duration;

use super::{Decision, RequestView};

/// Delays every request it is applied to by a fixed amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyFault {
    pub delay: Duration,
}

impl LatencyFault {
    pub fn on_request(&self, _request: &RequestView<'_>) -> Decision {
        Decision::Delay(self.delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_by_the_configured_amount() {
        let fault = LatencyFault { delay: Duration::from_millis(250) };
        let request = RequestView {
            method: "POST",
            path: "/",
            model: None,
            stream: None,
            key: None,
            tokens: None,
            headers: None,
            draw_key: None,
        };
        assert_eq!(fault.on_request(&request), Decision::Delay(Duration::from_millis(250)));
    }
}
