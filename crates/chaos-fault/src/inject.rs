//! `inject`: puts a bad event into a stream after N events: a malformed one (invalid JSON), or
//! a mid-stream error in the family's own format, after which the stream ends (OpenAI: a
//! `data:` chunk with an `"error"` key; Anthropic: `event: error`; Bedrock: an exception frame,
//! `modelStreamErrorException`). The SDKs raise on each and do not retry: the answer is lost
//! after it started. Bedrock's malformed event is a whole frame whose message CRC is wrong, the
//! one torn frame a fault writes. With `in: tool_arguments` it counts only
//! tool-call argument fragments ([`EventScope`]), so the bad event lands inside a call.

use bytes::Bytes;
use rand::rngs::StdRng;
use serde::Deserialize;
use serde_json::json;
use serde_saphyr::Spanned;

use super::{Decision, EventAction, EventScope, Fault, FaultContext, RequestView};
use crate::{
    located::{choose, Checked},
    speed::Speed,
    wire::{bedrock, sse, sse_split::SseEvent, ApiFamily},
};

/// `inject: { kind: error | malformed, after_events: 5 }`
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInject {
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub after_events: u64,
    /// Which events `after_events` counts: every event (the default) or `tool_arguments`.
    #[serde(default, rename = "in")]
    pub scope: EventScope,
}

/// What to put into the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    Malformed,
    Error,
}

/// Inserts one event before event number `after_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectFault {
    pub what: Injected,
    pub after_events: u64,
    pub scope: EventScope,
    pub family: ApiFamily,
}

impl Fault for InjectFault {
    const NAME: &'static str = "inject";
    const EXAMPLE: &'static str = "`inject: { kind: error, after_events: 5 }`";
    type Raw = RawInject;
    type Options = ();

    fn check(raw: &Spanned<RawInject>, _options: &(), context: &FaultContext) -> Checked<Self> {
        let what = choose(
            "event to inject",
            &raw.value.kind,
            &[("error", Injected::Error), ("malformed", Injected::Malformed)],
        )?;
        let after_events = crate::raw::counted(raw.value.after_events, "after_events", &raw.referenced)?;
        Ok(InjectFault { what, after_events, scope: raw.value.scope, family: context.family })
    }

    /// It states no time: a count of events or a kind, the same at any speed.
    fn at_speed(&self, _speed: Speed) -> Self {
        self.clone()
    }

    fn on_request(&self, _request: &RequestView<'_>, _rng: &mut StdRng) -> Decision {
        Decision::Stream
    }

    fn label(&self) -> String {
        format!("inject:{:?}", self.what).to_lowercase()
    }

    fn on_event(&self, event: &SseEvent<'_>) -> EventAction {
        if self.scope.position(event) != Some(self.after_events) {
            return EventAction::Pass;
        }
        match self.what {
            Injected::Malformed => EventAction::InsertBefore(self.malformed()),
            Injected::Error => EventAction::EndWith(self.error()),
        }
    }
}

impl InjectFault {
    fn malformed(&self) -> Bytes {
        match self.family {
            ApiFamily::Gemini => {
                Bytes::from_static(b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\n\n")
            }
            ApiFamily::OpenAi | ApiFamily::Azure => Bytes::from_static(b"data: {\"choices\": [{\"delta\": {\"content\": \"\n\n"),
            ApiFamily::Anthropic => {
                Bytes::from_static(b"event: content_block_delta\ndata: {\"type\": \"content_block_del\n\n")
            }
            ApiFamily::Bedrock => {
                let frame = bedrock::event("contentBlockDelta", &json!({ "contentBlockIndex": 0, "delta": { "text": "" } }));
                let mut torn = frame.to_vec();
                let last = torn.len() - 1;
                torn[last] ^= 0xff;
                Bytes::from(torn)
            }
        }
    }

    fn error(&self) -> Bytes {
        match self.family {
            ApiFamily::Gemini => sse::data(&crate::wire::gemini::error_body(
                500,
                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                None,
            )),
            ApiFamily::OpenAi | ApiFamily::Azure => sse::data(&json!({ "error": {
                "message": "The server had an error while processing your request. Sorry about that!",
                "type": "server_error", "param": null, "code": null,
            } })),
            ApiFamily::Anthropic => sse::named(
                "error",
                &json!({ "type": "error", "error": { "type": "overloaded_error", "message": "Overloaded" } }),
            ),
            ApiFamily::Bedrock => bedrock::exception_frame(
                "modelStreamErrorException",
                "The model encountered an error while streaming the response. Try your request again.",
            ),
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
    fn an_error_replaces_the_rest_of_the_stream_in_the_familys_format() {
        let fault = InjectFault { what: Injected::Error, after_events: 2, scope: EventScope::Events, family: ApiFamily::Anthropic };
        assert_eq!(fault.on_event(&at(1)), EventAction::Pass);
        let EventAction::EndWith(event) = fault.on_event(&at(2)) else { panic!("ends with an error") };
        assert!(event.starts_with(b"event: error\ndata: {"));
        let openai = InjectFault { family: ApiFamily::OpenAi, ..fault };
        let EventAction::EndWith(event) = openai.on_event(&at(2)) else { panic!("ends with an error") };
        let json: serde_json::Value = serde_json::from_slice(&event[6..]).unwrap();
        assert_eq!(json["error"]["type"], "server_error");
    }

    #[test]
    fn a_malformed_event_is_inserted_and_the_stream_goes_on() {
        let fault = InjectFault { what: Injected::Malformed, after_events: 0, scope: EventScope::Events, family: ApiFamily::OpenAi };
        let EventAction::InsertBefore(event) = fault.on_event(&at(0)) else { panic!("inserted") };
        assert!(event.ends_with(b"\n\n"));
        assert!(serde_json::from_slice::<serde_json::Value>(&event[6..event.len() - 2]).is_err());
    }

    #[test]
    fn bedrock_gets_an_exception_frame_and_a_torn_frame() {
        use crate::wire::eventstream::{Frame, FrameError};
        let fault = InjectFault { what: Injected::Error, after_events: 0, scope: EventScope::Events, family: ApiFamily::Bedrock };
        let EventAction::EndWith(error) = fault.on_event(&at(0)) else { panic!("ends with an error") };
        let frame = Frame::decode(&error).expect("a whole frame");
        assert_eq!(frame.message_type(), Some("exception"));
        assert_eq!(frame.event_type(), Some("modelStreamErrorException"));
        let malformed = InjectFault { what: Injected::Malformed, ..fault };
        let EventAction::InsertBefore(torn) = malformed.on_event(&at(0)) else { panic!("inserted") };
        assert_eq!(Frame::decode(&torn), Err(FrameError::MessageCrc));
    }
}
