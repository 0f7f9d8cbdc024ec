//! Tool use in the Bedrock Converse dialect: `toolConfig` (`tools` of `toolSpec`s with their
//! `inputSchema.json`, and `toolChoice` `auto`, `any` or `tool`) read into a [`ToolAsk`], with
//! Bedrock's `ValidationException`s; the `toolUse` content block of a whole answer; and the
//! pieces of a stream botocore decodes: a `contentBlockStart` with `start.toolUse` (id and
//! name), then `contentBlockDelta`s whose `delta.toolUse.input` is a fragment of the input's
//! JSON; `stopReason: "tool_use"`. Shapes from botocore's `bedrock-runtime` service model
//! (`ToolConfiguration`, `ToolUseBlock`, `ToolUseBlockStart`, `ToolUseBlockDelta`).

use serde_json::{json, Value};

use super::tool_call::{Tool, ToolAsk, ToolCall, ToolChoice};
use crate::wire::{bedrock, CannedResponse};

fn invalid(message: &str) -> CannedResponse {
    bedrock::error(400, "ValidationException", message)
}

/// AWS's wording for a member that breaks a constraint of the service model.
fn constraint(member: &str, rule: &str) -> CannedResponse {
    invalid(&format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: {rule}"))
}

/// The request's tools and choice (`None` without a `toolConfig`), or Bedrock's 400.
pub fn parse(request: &Value) -> Result<Option<ToolAsk>, CannedResponse> {
    let config = match &request["toolConfig"] {
        Value::Null => return Ok(None),
        Value::Object(config) => config,
        _ => return Err(constraint("toolConfig", "Member must be a structure")),
    };
    let listed = match config.get("tools") {
        Some(Value::Array(listed)) if !listed.is_empty() => listed,
        _ => {
            return Err(constraint("toolConfig.tools", "Member must have length greater than or equal to 1"))
        }
    };
    let tools = listed
        .iter()
        .enumerate()
        .map(|(i, tool)| match tool["toolSpec"]["name"].as_str() {
            Some(name) => Ok(Tool {
                name: name.to_owned(),
                parameters: tool["toolSpec"]["inputSchema"]["json"].clone(),
            }),
            None => Err(constraint(
                &format!("toolConfig.tools.{}.member.toolSpec.name", i + 1),
                "Member must not be null",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let choice = match config.get("toolChoice") {
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(choice) if choice.get("auto").is_some() => ToolChoice::Auto,
        Some(choice) if choice.get("any").is_some() => ToolChoice::Required,
        Some(choice) => match choice["tool"]["name"].as_str() {
            Some(name) if tools.iter().any(|tool| tool.name == name) => ToolChoice::Named(name.to_owned()),
            Some(name) => {
                return Err(invalid(&format!("The tool {name} in toolChoice is not in toolConfig.tools.")))
            }
            None => return Err(constraint("toolConfig.toolChoice", "Member must be one of auto, any, tool")),
        },
    };
    Ok(Some(ToolAsk { tools, choice, user_turn: users_own_turn(request) }))
}

/// Whether the last message is the user's own words rather than a `toolResult`.
fn users_own_turn(request: &Value) -> bool {
    let Some(last) = request["messages"].as_array().and_then(|m| m.last()) else { return false };
    let results = last["content"]
        .as_array()
        .is_some_and(|blocks| blocks.iter().any(|block| block.get("toolResult").is_some()));
    last["role"] == "user" && !results
}

/// A `toolUseId` as Bedrock writes them: `tooluse_` and 22 characters.
fn tool_use_id() -> String {
    format!("tooluse_{:022x}", rand::random::<u128>() >> 40)
}

/// The content block of a whole answer that calls `call`.
pub fn block(call: &ToolCall) -> Value {
    json!({ "toolUse": { "toolUseId": tool_use_id(), "name": call.name, "input": call.input() } })
}

/// The `start` of the block a stream opens for `call`: no input until the deltas bring it.
pub fn start(call: &ToolCall) -> Value {
    json!({ "toolUse": { "toolUseId": tool_use_id(), "name": call.name } })
}

/// The delta carrying one fragment of the input's JSON.
pub fn input_delta(fragment: &str) -> Value {
    json!({ "toolUse": { "input": fragment } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tool_config: Value) -> Value {
        json!({ "messages": [{ "role": "user", "content": [{ "text": "hi" }] }], "toolConfig": tool_config })
    }

    fn lookup() -> Value {
        json!([{ "toolSpec": { "name": "lookup", "inputSchema": { "json": { "type": "object" } } } }])
    }

    /// The status of the 400 for `request`, or what it asked for.
    fn ask(request: Value) -> Result<Option<ToolAsk>, u16> {
        parse(&request).map_err(|bad| bad.status)
    }

    #[test]
    fn reads_the_tools_and_each_choice() {
        let read = |choice: Value| ask(request(json!({ "tools": lookup(), "toolChoice": choice })));
        let auto = read(Value::Null).unwrap().unwrap();
        assert_eq!(
            (auto.choice, auto.tools[0].parameters.clone()),
            (ToolChoice::Auto, json!({ "type": "object" }))
        );
        assert!(auto.user_turn);
        assert_eq!(read(json!({ "auto": {} })).unwrap().unwrap().choice, ToolChoice::Auto);
        assert_eq!(read(json!({ "any": {} })).unwrap().unwrap().choice, ToolChoice::Required);
        let named = read(json!({ "tool": { "name": "lookup" } })).unwrap().unwrap();
        assert_eq!(named.choice, ToolChoice::Named("lookup".into()));
        assert_eq!(read(json!({ "tool": { "name": "book" } })), Err(400));
        assert_eq!(read(json!({ "sometimes": {} })), Err(400));
        assert_eq!(ask(json!({ "messages": [] })), Ok(None));
    }

    #[test]
    fn a_config_without_tools_or_a_nameless_tool_is_a_validation_exception() {
        for config in [json!({}), json!({ "tools": [] }), json!({ "tools": [{ "toolSpec": {} }] }), json!(3)]
        {
            let refused = parse(&request(config.clone())).unwrap_err();
            assert_eq!(refused.status, 400, "{config}");
            let kind = refused.headers.iter().find(|(name, _)| *name == "x-amzn-errortype").unwrap();
            assert!(kind.1.starts_with("ValidationException:"), "{config}");
        }
    }

    #[test]
    fn a_tool_result_last_is_not_the_users_turn() {
        let result = json!({ "toolResult": { "toolUseId": "tooluse_1", "content": [{ "text": "18C" }] } });
        let messages = json!([{ "role": "user", "content": [{ "text": "hi" }] }, { "role": "user", "content": [result] }]);
        let asked =
            ask(json!({ "messages": messages, "toolConfig": { "tools": lookup() } })).unwrap().unwrap();
        assert!(!asked.user_turn);
        assert_eq!(asked.pick(), None, "auto answers in text after a tool's result");
    }
}
