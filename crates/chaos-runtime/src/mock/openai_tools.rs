//! Tool calls in the OpenAI Chat Completions dialect: `tools` and `tool_choice` read into a
//! [`ToolAsk`] (with OpenAI's 400s for a malformed one), the `tool_calls` of a whole answer,
//! and the deltas openai-python assembles from a stream: a first delta with the call's
//! `index`, `id`, `type` and `name` and empty `arguments`, then one delta per fragment of the
//! arguments, then `finish_reason: "tool_calls"`.

use serde_json::{json, Value};

use super::tool_call::{Tool, ToolAsk, ToolCall, ToolChoice};
use crate::wire::{openai, CannedResponse};

fn invalid(message: &str, param: &str, code: &str) -> CannedResponse {
    openai::error(400, message, "invalid_request_error", Some(param), Some(code))
}

/// The request's tools and choice (`None` without tools), or the 400 OpenAI sends.
pub fn parse(request: &Value) -> Result<Option<ToolAsk>, CannedResponse> {
    let choice = &request["tool_choice"];
    let listed = match &request["tools"] {
        Value::Null if choice.is_null() => return Ok(None),
        Value::Null => {
            let message =
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.";
            return Err(invalid(message, "tool_choice", "invalid_value"));
        }
        Value::Array(listed) if listed.is_empty() => {
            let message = "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.";
            return Err(invalid(message, "tools", "empty_array"));
        }
        Value::Array(listed) => listed,
        _ => return Err(invalid("Invalid type for 'tools': expected an array.", "tools", "invalid_type")),
    };
    let tools =
        listed.iter().enumerate().map(|(i, tool)| function(i, tool)).collect::<Result<Vec<_>, _>>()?;
    let choice = match choice {
        Value::Null => ToolChoice::Auto,
        Value::String(word) => match word.as_str() {
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            other => {
                let message = format!(
                    "Invalid value: '{other}'. Supported values are: 'none', 'auto', and 'required'."
                );
                return Err(invalid(&message, "tool_choice", "invalid_value"));
            }
        },
        named => {
            let name = named["function"]["name"].as_str().unwrap_or_default();
            if !tools.iter().any(|tool| tool.name == name) {
                let message =
                    format!("Invalid value for 'tool_choice': function '{name}' is not among 'tools'.");
                return Err(invalid(&message, "tool_choice", "invalid_value"));
            }
            ToolChoice::Named(name.to_owned())
        }
    };
    let last_role = request["messages"].as_array().and_then(|m| m.last()).map(|m| &m["role"]);
    Ok(Some(ToolAsk { tools, choice, user_turn: last_role.and_then(Value::as_str) == Some("user") }))
}

/// Tool `index` of the request: `{type: function, function: {name, parameters}}`.
fn function(index: usize, tool: &Value) -> Result<Tool, CannedResponse> {
    let function = &tool["function"];
    let Some(name) = function["name"].as_str() else {
        let param = format!("tools[{index}].function.name");
        return Err(invalid(
            &format!("Missing required parameter: '{param}'."),
            &param,
            "missing_required_parameter",
        ));
    };
    let parameters = match &function["parameters"] {
        Value::Null => json!({ "type": "object", "properties": {} }),
        parameters => parameters.clone(),
    };
    Ok(Tool { name: name.to_owned(), parameters })
}

/// A call's id, as OpenAI writes them.
pub fn call_id() -> String {
    format!("call_{:024x}", rand::random::<u128>() >> 32)
}

/// The assistant message of a whole answer that calls `call`.
pub fn message(call: &ToolCall) -> Value {
    let function = json!({ "name": call.name, "arguments": call.arguments });
    json!({
        "role": "assistant",
        "content": null,
        "refusal": null,
        "annotations": [],
        "tool_calls": [{ "id": call_id(), "type": "function", "function": function }],
    })
}

/// The first delta of a streamed call: who is called, with empty arguments.
pub fn first_delta(call: &ToolCall) -> Value {
    let function = json!({ "name": call.name, "arguments": "" });
    json!({
        "role": "assistant",
        "content": null,
        "refusal": null,
        "tool_calls": [{ "index": 0, "id": call_id(), "type": "function", "function": function }],
    })
}

/// The delta carrying one fragment of the arguments.
pub fn arguments_delta(fragment: &str) -> Value {
    json!({ "tool_calls": [{ "index": 0, "function": { "arguments": fragment } }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(request: Value) -> Result<Option<ToolAsk>, u16> {
        parse(&request).map_err(|bad| bad.status)
    }

    #[test]
    fn reads_tools_and_each_choice() {
        let tools = json!([{ "type": "function", "function": { "name": "lookup" } }]);
        let user = json!([{ "role": "user", "content": "hi" }]);
        let read = |choice: Value| ask(json!({ "messages": user, "tools": tools, "tool_choice": choice }));
        assert_eq!(read(Value::Null).unwrap().unwrap().choice, ToolChoice::Auto);
        assert_eq!(read(json!("required")).unwrap().unwrap().choice, ToolChoice::Required);
        assert_eq!(read(json!("none")).unwrap().unwrap().choice, ToolChoice::None);
        let named = json!({ "type": "function", "function": { "name": "lookup" } });
        assert_eq!(read(named).unwrap().unwrap().choice, ToolChoice::Named("lookup".into()));
        let read = read(Value::Null).unwrap().unwrap();
        assert!(read.user_turn);
        assert_eq!(read.tools[0].parameters["type"], "object", "parameters default to an empty object");
    }

    #[test]
    fn malformed_tools_get_openais_400() {
        let tools = json!([{ "type": "function", "function": { "name": "lookup" } }]);
        assert_eq!(ask(json!({ "messages": [] })), Ok(None));
        assert_eq!(ask(json!({ "tool_choice": "auto" })), Err(400));
        assert_eq!(ask(json!({ "tools": [] })), Err(400));
        assert_eq!(ask(json!({ "tools": [{ "type": "function", "function": {} }] })), Err(400));
        assert_eq!(ask(json!({ "tools": tools, "tool_choice": "sometimes" })), Err(400));
        let unknown = json!({ "type": "function", "function": { "name": "book" } });
        assert_eq!(ask(json!({ "tools": tools, "tool_choice": unknown })), Err(400));
    }

    #[test]
    fn a_tool_result_last_is_not_the_users_turn() {
        let messages = json!([{ "role": "user", "content": "hi" }, { "role": "tool", "tool_call_id": "call_1", "content": "18C" }]);
        let tools = json!([{ "type": "function", "function": { "name": "lookup" } }]);
        assert!(!ask(json!({ "messages": messages, "tools": tools })).unwrap().unwrap().user_turn);
    }
}
