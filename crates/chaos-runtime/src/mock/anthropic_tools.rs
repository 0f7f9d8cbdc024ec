//! Tool use in the Anthropic Messages dialect: `tools` and `tool_choice` (`auto`, `any`,
//! `tool`, `none`) read into a [`ToolAsk`] (with Anthropic's 400s), the `tool_use` content
//! block of a whole answer, and the pieces of a stream anthropic-python assembles: a
//! `content_block_start` with the block and `input: {}`, then `input_json_delta` fragments
//! (`partial_json`) in `content_block_delta`s; `stop_reason: "tool_use"`.

use serde_json::{json, Value};

use super::tool_call::{Tool, ToolAsk, ToolCall, ToolChoice};
use crate::wire::{anthropic, CannedResponse};

fn invalid(message: &str) -> CannedResponse {
    anthropic::error(400, "invalid_request_error", message)
}

/// The request's tools and choice (`None` without tools), or the 400 Anthropic sends.
pub fn parse(request: &Value) -> Result<Option<ToolAsk>, CannedResponse> {
    let choice = &request["tool_choice"];
    let listed = match &request["tools"] {
        Value::Null if choice.is_null() => return Ok(None),
        Value::Null => return Err(invalid("tool_choice may only be specified while providing tools.")),
        Value::Array(listed) => listed,
        _ => return Err(invalid("tools: Input should be a valid list")),
    };
    let tools = listed
        .iter()
        .enumerate()
        .map(|(i, tool)| match tool["name"].as_str() {
            Some(name) => Ok(Tool { name: name.to_owned(), parameters: tool["input_schema"].clone() }),
            None => Err(invalid(&format!("tools.{i}.custom.name: Field required"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let choice = match choice["type"].as_str() {
        None if choice.is_null() => ToolChoice::Auto,
        Some("auto") => ToolChoice::Auto,
        Some("any") => ToolChoice::Required,
        Some("none") => ToolChoice::None,
        Some("tool") => {
            let name = choice["name"].as_str().unwrap_or_default();
            if !tools.iter().any(|tool| tool.name == name) {
                return Err(invalid(&format!("Tool '{name}' not found in provided tools")));
            }
            ToolChoice::Named(name.to_owned())
        }
        _ => return Err(invalid(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
        )),
    };
    Ok(Some(ToolAsk { tools, choice, user_turn: users_own_turn(request) }))
}

/// Whether the last message is the user's own words rather than a `tool_result`.
fn users_own_turn(request: &Value) -> bool {
    let Some(last) = request["messages"].as_array().and_then(|m| m.last()) else { return false };
    let results = last["content"]
        .as_array()
        .is_some_and(|blocks| blocks.iter().any(|block| block["type"] == "tool_result"));
    last["role"] == "user" && !results
}

fn tool_use_id() -> String {
    format!("toolu_01{:022x}", rand::random::<u128>() >> 40)
}

/// The content block of a whole answer that calls `call`.
pub fn block(call: &ToolCall) -> Value {
    json!({ "type": "tool_use", "id": tool_use_id(), "name": call.name, "input": call.input() })
}

/// The block a stream opens for `call`: its input empty until the deltas fill it.
pub fn opening_block(call: &ToolCall) -> Value {
    json!({ "type": "tool_use", "id": tool_use_id(), "name": call.name, "input": {} })
}

/// The delta carrying one fragment of the input's JSON.
pub fn input_delta(fragment: &str) -> Value {
    json!({ "type": "input_json_delta", "partial_json": fragment })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tools_and_each_choice() {
        let tools = json!([{ "name": "lookup", "input_schema": { "type": "object" } }]);
        let read = |choice: Value| {
            let request = json!({ "messages": [{ "role": "user", "content": "hi" }], "tools": tools, "tool_choice": choice });
            ask(request)
        };
        let choices = [
            (Value::Null, ToolChoice::Auto),
            (json!({ "type": "any" }), ToolChoice::Required),
            (json!({ "type": "none" }), ToolChoice::None),
        ];
        for (choice, expected) in choices {
            assert_eq!(read(choice).unwrap().unwrap().choice, expected);
        }
        let named = read(json!({ "type": "tool", "name": "lookup" })).unwrap().unwrap();
        assert_eq!(named.choice, ToolChoice::Named("lookup".into()));
        assert!(named.user_turn);
        assert_eq!(read(json!({ "type": "tool", "name": "book" })), Err(400));
        assert_eq!(read(json!({ "type": "sometimes" })), Err(400));
        assert_eq!(ask(json!({ "tool_choice": { "type": "any" } })), Err(400));
        assert_eq!(ask(json!({ "tools": [{ "input_schema": {} }] })), Err(400));
    }

    #[test]
    fn a_tool_result_last_is_not_the_users_turn() {
        let result = json!({ "type": "tool_result", "tool_use_id": "toolu_1", "content": "18C" });
        let messages = json!([{ "role": "user", "content": "hi" }, { "role": "user", "content": [result] }]);
        let tools = json!([{ "name": "lookup", "input_schema": { "type": "object" } }]);
        assert!(!ask(json!({ "messages": messages, "tools": tools })).unwrap().unwrap().user_turn);
    }

    /// The status of the 400 for `request`, or what it asked for.
    fn ask(request: Value) -> Result<Option<ToolAsk>, u16> {
        parse(&request).map_err(|bad| bad.status)
    }
}
