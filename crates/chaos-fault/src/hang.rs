//! `hang`: accept the request and never answer — for good (until the target gives up), or for
//! a while and then close the connection with no answer.

use std::time::Duration;

use rand::rngs::StdRng;
use serde_saphyr::Spanned;

use super::{ConnectionFault, Decision, Fault, FaultContext, RequestView};
use crate::{
    located::{Checked, Located},
    speed::Speed,
    units::HumanDuration,
};

/// Holds the request without answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HangFault {
    /// `None`: never answer; otherwise close without an answer after this long.
    pub duration: Option<Duration>,
}

impl Fault for HangFault {
    const NAME: &'static str = "hang";
    const EXAMPLE: &'static str = "`hang: forever`";
    /// `forever`, or how long before closing without an answer.
    type Raw = String;
    type Options = ();

    fn check(hang: &Spanned<String>, _options: &(), _context: &FaultContext) -> Checked<Self> {
        let duration = match hang.value.as_str() {
            "forever" => None,
            text => Some(
                text.parse::<HumanDuration>()
                    .map_err(|error| Located::at(&hang.referenced, format!("{error}; or `forever`")))?
                    .0,
            ),
        };
        Ok(HangFault { duration })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        HangFault { duration: self.duration.map(|d| speed.time(d)) }
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
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
        assert_eq!(
            forever.on_request(&request, &mut rand::SeedableRng::seed_from_u64(0)),
            Decision::Connection(ConnectionFault::Hang(None))
        );
        let bounded = HangFault { duration: Some(Duration::from_secs(30)) };
        assert_eq!(
            bounded.on_request(&request, &mut rand::SeedableRng::seed_from_u64(0)),
            Decision::Connection(ConnectionFault::Hang(Some(Duration::from_secs(30))))
        );
    }

    fn checked(text: &str) -> Checked<HangFault> {
        let raw: Spanned<String> = serde_saphyr::from_str(text).expect("parses");
        HangFault::check(&raw, &(), &FaultContext { family: crate::wire::ApiFamily::OpenAi })
    }

    #[test]
    fn forever_or_a_duration_scaled_by_speed_and_a_bad_one_refused_where_written() {
        assert_eq!(checked("forever"), Ok(HangFault { duration: None }));
        let thirty = checked("30s").expect("a duration");
        let sixty = Speed::new(60.0).expect("a speed");
        assert_eq!(thirty.at_speed(sixty).duration, Some(Duration::from_millis(500)));
        assert_eq!(HangFault { duration: None }.at_speed(sixty).duration, None, "forever stays forever");
        let error = checked("5x").expect_err("not a duration");
        assert_eq!((error.line, error.column), (1, 1));
        assert!(error.message.ends_with("; or `forever`"), "{}", error.message);
        assert_eq!(thirty.label(), "hang");
    }
}
