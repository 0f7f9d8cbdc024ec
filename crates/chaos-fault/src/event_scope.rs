//! `in:` on the stream faults that count events (`cut`, `stall`, `inject`): which events their
//! `after_events` counts. By default every event of the stream; `in: tool_arguments` counts
//! only the events carrying a fragment of a tool call's arguments, so `cut: { after_events: 2,
//! in: tool_arguments }` ends the stream inside the arguments, after two fragments, whatever
//! came before them (role chunk, text, the call's name), and leaves answers without a tool call
//! whole.

use serde::Deserialize;

use crate::wire::sse_split::SseEvent;

/// Which events a stream fault counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventScope {
    /// Every event of the stream.
    #[default]
    Events,
    /// Only the events carrying a fragment of a tool call's arguments (OpenAI `tool_calls`
    /// deltas with arguments, Anthropic `input_json_delta`).
    ToolArguments,
}

impl EventScope {
    /// The event's position among the events counted, or `None` when it is not one of them.
    pub fn position(self, event: &SseEvent<'_>) -> Option<u64> {
        match self {
            EventScope::Events => Some(event.index),
            EventScope::ToolArguments => event.tool_argument,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_event_or_only_the_argument_fragments() {
        let fragment = SseEvent { index: 5, bytes: b"data: {}\n\n", tool_argument: Some(1) };
        let other = SseEvent { index: 6, bytes: b"data: {}\n\n", tool_argument: None };
        assert_eq!(EventScope::Events.position(&fragment), Some(5));
        assert_eq!(EventScope::ToolArguments.position(&fragment), Some(1));
        assert_eq!(EventScope::ToolArguments.position(&other), None);
    }
}
