//! The calls of an agent's task ([`AgentLoop`]): call `step` offers the task's tools and
//! carries, for every earlier call, the tool call and its result, in the family's shape (OpenAI
//! `assistant` `tool_calls` and a `tool` message; Anthropic `tool_use` and a `tool_result`
//! block). The calls and results are written by the harness, not read back from the answers,
//! so a task's bodies are the same whatever the model said and a run repeats. Calls before the
//! last force a tool call (`required` / `any`); the last is left to the model (`auto`).
//!
//! Built with serde_json over the family's own body ([`body::render`]): an agent's call is
//! several times the size of a chat request, and this is not the hot path the template is for.

use bytes::Bytes;
use serde_json::{json, Value};

use super::body::{self, Rendered, RequestSpec};
use crate::{scenario::agent::AgentLoop, wire::ApiFamily};

/// The arguments' schema of every tool offered.
fn parameters() -> Value {
    json!({ "type": "object", "properties": { "query": { "type": "string" } }, "required": ["query"] })
}

/// The name of tool `index` (from 0).
fn tool_name(index: u32) -> String {
    format!("tool_{}", index + 1)
}

/// The body and headers of call `step` (from 0) of logical request `id`; a request without an
/// agent loop is rendered as ever.
pub fn render_call(
    family: ApiFamily,
    spec: &RequestSpec,
    prompt: &str,
    id: u64,
    key: &str,
    step: u32,
) -> Rendered {
    let rendered = body::render(family, spec, prompt, id, key);
    let Some(agent) = spec.agent.filter(|_| !matches!(family, ApiFamily::Gemini | ApiFamily::Bedrock)) else {
        // Gemini's and Bedrock's tools are not sent (a fallback to such an upstream asks it for
        // text).
        return rendered;
    };
    let Ok(mut request) = serde_json::from_slice::<Value>(&rendered.body) else { return rendered };
    let description = "A tool of the chaos harness's agent task.";
    // Below, Gemini and Bedrock share other arms only for the matches to be whole: they returned
    // above.
    let tools: Vec<Value> = (0..agent.tools)
        .map(|index| match family {
            ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Bedrock => {
                json!({ "type": "function", "function": {
                "name": tool_name(index), "description": description, "parameters": parameters() } })
            }
            ApiFamily::Anthropic | ApiFamily::Gemini => {
                json!({ "name": tool_name(index), "description": description, "input_schema": parameters() })
            }
        })
        .collect();
    let forced = !agent.is_last(step);
    request["tool_choice"] = match (family, forced) {
        (ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Bedrock, true) => json!("required"),
        (ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Bedrock, false) => json!("auto"),
        (ApiFamily::Anthropic | ApiFamily::Gemini, true) => json!({ "type": "any" }),
        (ApiFamily::Anthropic | ApiFamily::Gemini, false) => json!({ "type": "auto" }),
    };
    request["tools"] = Value::Array(tools);
    if let Some(messages) = request["messages"].as_array_mut() {
        messages.extend((0..step).flat_map(|earlier| exchange(family, agent, earlier)));
    }
    Rendered { body: Bytes::from(request.to_string()), headers: rendered.headers }
}

/// Call `step`'s tool call and its result, as two messages.
fn exchange(family: ApiFamily, agent: AgentLoop, step: u32) -> [Value; 2] {
    let name = tool_name(step % agent.tools);
    let input = json!({ "query": format!("chaos step {}", step + 1) });
    let result = format!("result of step {}", step + 1);
    match family {
        ApiFamily::OpenAi | ApiFamily::Azure | ApiFamily::Bedrock => {
            let id = format!("call_chaos_{step}");
            let function = json!({ "name": name, "arguments": input.to_string() });
            [
                json!({ "role": "assistant", "content": null, "tool_calls": [{ "id": id, "type": "function", "function": function }] }),
                json!({ "role": "tool", "tool_call_id": id, "content": result }),
            ]
        }
        ApiFamily::Anthropic | ApiFamily::Gemini => {
            let id = format!("toolu_chaos_{step}");
            [
                json!({ "role": "assistant", "content": [{ "type": "tool_use", "id": id, "name": name, "input": input }] }),
                json!({ "role": "user", "content": [{ "type": "tool_result", "tool_use_id": id, "content": result }] }),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::wire::tokens;

    fn spec(agent: Option<AgentLoop>) -> RequestSpec {
        RequestSpec {
            api: ApiFamily::OpenAi,
            model: Arc::from("m"),
            stream: false,
            prompt_tokens: 100,
            max_tokens: None,
            shape: None,
            agent,
            endpoint: crate::scenario::request_mix::RequestEndpoint::Chat,
        }
    }

    fn call(family: ApiFamily, agent: AgentLoop, step: u32) -> Value {
        let prompt = tokens::prompt_text(200);
        serde_json::from_slice(&render_call(family, &spec(Some(agent)), &prompt, 7, "k", step).body).unwrap()
    }

    #[test]
    fn each_call_carries_the_earlier_calls_and_results_and_only_the_last_is_left_to_the_model() {
        let agent = AgentLoop { tools: 2, steps: 3 };
        let first = call(ApiFamily::OpenAi, agent, 0);
        assert_eq!(first["tool_choice"], "required");
        assert_eq!(first["tools"].as_array().unwrap().len(), 2);
        assert_eq!(first["messages"].as_array().unwrap().len(), 1);
        assert_eq!(first["user"], "chaos-7", "the family's own body underneath");
        let last = call(ApiFamily::OpenAi, agent, 2);
        assert_eq!(last["tool_choice"], "auto");
        let roles: Vec<&str> =
            last["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["user", "assistant", "tool", "assistant", "tool"]);
        assert_eq!(last["messages"][3]["tool_calls"][0]["function"]["name"], "tool_2", "the tools in turn");
        assert_eq!(last["messages"][4]["tool_call_id"], last["messages"][3]["tool_calls"][0]["id"]);

        let anthropic = call(ApiFamily::Anthropic, agent, 1);
        assert_eq!(anthropic["tool_choice"], json!({ "type": "any" }));
        assert_eq!(anthropic["tools"][0]["input_schema"]["required"], json!(["query"]));
        let result = &anthropic["messages"][2]["content"][0];
        assert_eq!(result["type"], "tool_result");
        assert_eq!(result["tool_use_id"], anthropic["messages"][1]["content"][0]["id"]);
    }

    #[test]
    fn a_request_without_a_loop_is_the_familys_own_body() {
        let prompt = tokens::prompt_text(200);
        let plain = render_call(ApiFamily::OpenAi, &spec(None), &prompt, 7, "k", 0).body;
        assert_eq!(plain, body::body(ApiFamily::OpenAi, &spec(None), &prompt, 7));
    }
}
