//! Tool calls through the mocks over real sockets: OpenAI `tool_calls` and Anthropic
//! `tool_use`, whole and streamed (the streamed pieces assemble to what a whole answer of the
//! same seed says), `auto` ending an agent loop after a tool result, and the stream faults that
//! count only argument fragments (`in: tool_arguments`) landing inside a call's arguments.

use std::time::Duration;

use chaos::{
    fault::{Chain, CutFault, EventScope, FaultAction, FaultRule, StallFault},
    metrics::Recorder,
    mock::{MockBuilder, MockHandle},
    wire::ApiFamily,
};
use serde_json::{json, Value};

use crate::mocks::{chat, message, send, send_to, Received, ANTHROPIC_AUTH, OPENAI_AUTH};

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";

/// A city and a unit, both required: the schema `tests/sdk/test_tool_calls.py` uses too.
fn weather_schema() -> Value {
    let unit = json!({ "type": "string", "enum": ["celsius", "fahrenheit"] });
    json!({ "type": "object", "properties": { "city": { "type": "string" }, "unit": unit }, "required": ["city", "unit"] })
}

fn openai_tools(extra: Value) -> String {
    let tools = json!([{ "type": "function", "function": { "name": "get_weather", "parameters": weather_schema() } }]);
    let mut body = json!({ "tools": tools });
    body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    chat(body)
}

fn anthropic_tools(extra: Value) -> String {
    let mut body = json!({ "tools": [{ "name": "get_weather", "input_schema": weather_schema() }] });
    body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    message(body)
}

async fn seeded(family: ApiFamily, seed: u64) -> MockHandle {
    MockBuilder::new(family).seed(seed).spawn().await.expect("mock starts")
}

/// The arguments of the one call a streamed OpenAI answer makes, and its finish reason.
fn assembled_openai_call(stream: &Received) -> (Value, String, Option<String>) {
    let mut header = Value::Null;
    let mut arguments = String::new();
    let mut finish = None;
    for (_, data) in stream.events() {
        let Ok(chunk) = serde_json::from_str::<Value>(&data) else { continue };
        let Some(choice) = chunk["choices"].get(0) else { continue };
        if let Some(call) = choice["delta"]["tool_calls"].get(0) {
            if call.get("id").is_some() {
                header = call.clone();
            }
            arguments.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
        finish = choice["finish_reason"].as_str().map(str::to_owned).or(finish);
    }
    (header, arguments, finish)
}

fn assert_fits_the_schema(arguments: &Value) {
    assert!(arguments["city"].is_string(), "{arguments}");
    assert!(
        ["celsius", "fahrenheit"].contains(&arguments["unit"].as_str().unwrap_or_default()),
        "{arguments}"
    );
}

#[tokio::test]
async fn openai_required_calls_the_tool_with_arguments_that_fit_its_schema() {
    let mock = seeded(ApiFamily::OpenAi, 7).await;
    let answer = send(&mock, CHAT, &[OPENAI_AUTH], &openai_tools(json!({ "tool_choice": "required" }))).await;
    assert_eq!(answer.status, 200);
    let answer = answer.json();
    let choice = &answer["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert!(call["id"].as_str().unwrap().starts_with("call_"), "{call}");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments = call["function"]["arguments"].as_str().expect("arguments are a JSON string");
    assert_fits_the_schema(&serde_json::from_str(arguments).expect("arguments parse"));
    let fragments = arguments.chars().count().div_ceil(4) as u64;
    assert_eq!(answer["usage"]["completion_tokens"], fragments, "one output token per fragment");
}

#[tokio::test]
async fn openai_streamed_deltas_assemble_to_the_call_a_whole_answer_of_the_same_seed_makes() {
    let whole =
        send(&seeded(ApiFamily::OpenAi, 11).await, CHAT, &[OPENAI_AUTH], &openai_tools(json!({}))).await;
    let whole = whole.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].clone();
    let streamed = openai_tools(json!({ "stream": true, "stream_options": { "include_usage": true } }));
    let stream = send(&seeded(ApiFamily::OpenAi, 11).await, CHAT, &[OPENAI_AUTH], &streamed).await;
    let (header, arguments, finish) = assembled_openai_call(&stream);
    assert_eq!(header["index"], 0);
    assert_eq!(header["type"], "function");
    assert_eq!(
        header["function"],
        json!({ "name": "get_weather", "arguments": "" }),
        "the first delta names the call"
    );
    assert_eq!(Value::String(arguments.clone()), whole);
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    let usage =
        stream.events().iter().rev().nth(1).map(|(_, data)| serde_json::from_str::<Value>(data).unwrap());
    let fragments = arguments.chars().count().div_ceil(4) as u64;
    assert_eq!(usage.unwrap()["usage"]["completion_tokens"], fragments);
}

#[tokio::test]
async fn auto_answers_text_after_a_tool_result_so_an_agent_loop_ends() {
    let mock = seeded(ApiFamily::OpenAi, 3).await;
    let call = json!({ "id": "call_1", "type": "function", "function": { "name": "get_weather", "arguments": "{}" } });
    let messages = json!([
        { "role": "user", "content": "Weather in Oslo?" },
        { "role": "assistant", "content": null, "tool_calls": [call] },
        { "role": "tool", "tool_call_id": "call_1", "content": "-3 celsius" },
    ]);
    let after =
        send(&mock, CHAT, &[OPENAI_AUTH], &openai_tools(json!({ "messages": messages }))).await.json();
    assert_eq!(after["choices"][0]["finish_reason"], "stop");
    assert!(after["choices"][0]["message"]["content"].is_string());
    assert!(after["choices"][0]["message"].get("tool_calls").is_none());
    let none =
        send(&mock, CHAT, &[OPENAI_AUTH], &openai_tools(json!({ "tool_choice": "none" }))).await.json();
    assert_eq!(none["choices"][0]["finish_reason"], "stop", "none never calls");
}

#[tokio::test]
async fn anthropic_tool_use_streamed_assembles_to_the_input_of_a_whole_answer() {
    let forced = json!({ "tool_choice": { "type": "any" } });
    let mock = seeded(ApiFamily::Anthropic, 5).await;
    let whole = send(&mock, MESSAGES, &ANTHROPIC_AUTH, &anthropic_tools(forced.clone())).await.json();
    assert_eq!(whole["stop_reason"], "tool_use");
    let block = &whole["content"][0];
    assert_eq!(block["type"], "tool_use");
    assert!(block["id"].as_str().unwrap().starts_with("toolu_"), "{block}");
    assert_eq!(block["name"], "get_weather");
    assert_fits_the_schema(&block["input"]);

    let mut streamed = forced;
    streamed["stream"] = json!(true);
    let stream =
        send(&seeded(ApiFamily::Anthropic, 5).await, MESSAGES, &ANTHROPIC_AUTH, &anthropic_tools(streamed))
            .await;
    let events: Vec<(String, Value)> = stream
        .events()
        .into_iter()
        .map(|(name, data)| (name.expect("named events"), serde_json::from_str(&data).expect("JSON")))
        .collect();
    let start = events.iter().find(|(name, _)| name == "content_block_start").expect("a block starts");
    assert_eq!(start.1["content_block"]["type"], "tool_use");
    assert_eq!(start.1["content_block"]["input"], json!({}), "the input fills in from the deltas");
    let partial: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name == "content_block_delta")
        .map(|(_, data)| {
            assert_eq!(data["delta"]["type"], "input_json_delta");
            data["delta"]["partial_json"].as_str().expect("partial_json")
        })
        .collect();
    let input: Value = serde_json::from_str(&partial.concat()).expect("the fragments make JSON");
    assert_eq!(input, block["input"]);
    let delta = &events.iter().find(|(name, _)| name == "message_delta").expect("message_delta").1;
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], partial.len() as u64);
}

#[tokio::test]
async fn a_cut_in_tool_arguments_lands_inside_the_arguments() {
    let mock = seeded(ApiFamily::OpenAi, 21).await;
    let recorder = Recorder::new();
    let interposer =
        crate::support::interposer(&format!("http://{}", mock.addr), Vec::new(), &recorder).await;
    let cut = CutFault { after_events: 2, scope: EventScope::ToolArguments };
    interposer.set_chain(0, Chain::new(vec![FaultRule::new(FaultAction::Cut(cut), 1.0)], 1));
    let through = interposer.addr;
    let stream = send_to(through, CHAT, &[OPENAI_AUTH], &openai_tools(json!({ "stream": true }))).await;
    let (header, arguments, finish) = assembled_openai_call(&stream);
    assert_eq!(header["function"]["name"], "get_weather", "the call's header got through");
    assert_eq!(arguments.chars().count(), 8, "two fragments of four characters: {arguments}");
    assert!(serde_json::from_str::<Value>(&arguments).is_err(), "half a call is not JSON: {arguments}");
    assert_eq!(finish, None);
    assert!(!String::from_utf8(stream.body()).unwrap().contains("[DONE]"));

    let whole =
        send(&seeded(ApiFamily::OpenAi, 21).await, CHAT, &[OPENAI_AUTH], &openai_tools(json!({}))).await;
    let whole = whole.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].clone();
    assert!(whole.as_str().unwrap().starts_with(&arguments), "{arguments} begins {whole}");

    let text = send_to(through, CHAT, &[OPENAI_AUTH], &chat(json!({ "stream": true }))).await;
    let text = String::from_utf8(text.body()).unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "an answer without a call is left whole: {text}");
}

#[tokio::test]
async fn a_stall_in_tool_arguments_holds_the_call_half_written() {
    let stall = StallFault {
        after_events: 1,
        duration: Some(Duration::from_millis(400)),
        scope: EventScope::ToolArguments,
    };
    let mock = MockBuilder::new(ApiFamily::Anthropic)
        .faults(vec![FaultRule::new(FaultAction::Stall(stall), 1.0)])
        .spawn()
        .await
        .expect("mock starts");
    let stream = send(&mock, MESSAGES, &ANTHROPIC_AUTH, &anthropic_tools(json!({ "stream": true }))).await;
    let arrived = |needle: &str, nth: usize| {
        let mut seen = 0;
        stream
            .frames
            .iter()
            .find(|(_, bytes)| {
                seen += String::from_utf8_lossy(bytes).matches(needle).count();
                seen > nth
            })
            .map(|(at, _)| *at)
            .unwrap_or_else(|| panic!("no {needle} #{nth}"))
    };
    let first = arrived("input_json_delta", 0);
    let second = arrived("input_json_delta", 1);
    assert!(second - first >= Duration::from_millis(400), "held {:?}", second - first);
    assert!(String::from_utf8(stream.body()).unwrap().contains("event: message_stop"), "then it went on");
}
