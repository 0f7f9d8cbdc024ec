//! What a kind of fault is: the [`Fault`] trait every registered fault implements, and the
//! [`FaultContext`] its checks may read.
//!
//! A fault is one file of this crate: its raw YAML form, its checks (errors at the value's
//! line and column), how it scales with `--speed`, its decisions and its label, with its unit
//! tests. It joins the harness by one line in the `faults!` table of `fault/mod.rs`, which
//! declares its module and generates [`FaultAction`](super::FaultAction) (the checked action a
//! chain holds), its dispatch, and the reading of a rule's keys (`fault/raw.rs`). The shape is
//! toxiproxy's `Register("latency", …)`.

use std::{fmt::Debug, time::Duration};

use rand::rngs::StdRng;
use serde::de::{DeserializeOwned, MapAccess};
use serde_saphyr::{Location, Spanned};

use super::{Decision, EventAction, RequestView};
use crate::{located::Checked, speed::Speed, wire::sse_split::SseEvent, wire::ApiFamily};

/// What a fault's checks may depend on besides its own value.
#[derive(Debug, Clone, Copy)]
pub struct FaultContext {
    /// The API family of the upstream the fault stands in front of.
    pub family: ApiFamily,
}

/// One kind of fault: its YAML key, raw form, checks and decisions. Decisions are pure: they
/// say what to do and the runtime that holds the fault does the sleeping and the writing.
pub trait Fault: Sized + Clone + PartialEq + Debug {
    /// The key a scenario names it by: `status`, `latency`, ….
    const NAME: &'static str;
    /// How it is written, for the error that lists every action: "`latency: 2s`".
    const EXAMPLE: &'static str;
    /// The value under [`Fault::NAME`], as serde reads it.
    type Raw: DeserializeOwned + schemars::JsonSchema;
    /// Keys beside [`Fault::NAME`] that only this fault reads (`retry_after` with `status`);
    /// `()` for none.
    type Options: Default + Debug + schemars::JsonSchema;
    /// The names of those keys.
    const OPTION_KEYS: &'static [&'static str] = &[];

    /// Reads the value of option `key` (one of [`Fault::OPTION_KEYS`]) into `options`; a null
    /// value leaves the option out, as serde's derive does for an `Option` field.
    fn read_option<'de, A: MapAccess<'de>>(
        key: &str,
        map: &mut A,
        options: &mut Self::Options,
    ) -> Result<(), A::Error> {
        let _ = (map, options);
        Err(serde::de::Error::custom(format!("`{key}` is not an option of `{}`", Self::NAME)))
    }

    /// The options given, each with where its value was written.
    fn options_given(options: &Self::Options) -> Vec<(&'static str, Location)> {
        let _ = options;
        Vec::new()
    }

    /// The checked fault, or an error at the offending value.
    fn check(raw: &Spanned<Self::Raw>, options: &Self::Options, context: &FaultContext) -> Checked<Self>;

    /// This fault at `speed`: every duration it states shortened, every rate quickened, counts
    /// unchanged. No default: a fault that states no time says so by returning itself, so a new
    /// fault cannot forget to scale.
    fn at_speed(&self, speed: Speed) -> Self;

    /// The decision for one request; a stream fault says [`Decision::Stream`]. `rng` is the
    /// request's own draw stream.
    fn on_request(&self, request: &RequestView<'_>, rng: &mut StdRng) -> Decision;

    /// This fault as it applies to one request's answer (a stream fault whose events draw at
    /// random seeds them from the request's `rng`).
    fn for_request(&self, rng: &mut StdRng) -> Self {
        let _ = rng;
        self.clone()
    }

    /// What happens to one event of the response stream.
    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        let _ = event;
        EventAction::Pass
    }

    /// How long the stream stays open after its last event.
    fn on_end(&self) -> Duration {
        Duration::ZERO
    }

    /// Whether deciding needs the request body read.
    fn needs_body(&self) -> bool {
        false
    }

    /// A short label for records and reports, such as `status:429` or `stall`.
    fn label(&self) -> String {
        Self::NAME.to_owned()
    }
}
