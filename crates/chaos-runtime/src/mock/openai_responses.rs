//! OpenAI's Responses API on the OpenAI mock: `POST /v1/responses`, a whole `response` object
//! or its named SSE events in the real order — `response.created`, `response.in_progress`,
//! `response.output_item.added`, `response.content_part.added`, `response.output_text.delta` per
//! token, `response.output_text.done`, `response.content_part.done`,
//! `response.output_item.done`, and `response.completed` (or `response.incomplete` when
//! `max_output_tokens` cut the answer) — each `data` with its `type` and `sequence_number`.

use std::time::Duration;

use serde_json::{json, Value};

use super::{
    generation::{Ask, Endpoint, Generation},
    paced::EventScript,
    template::Template,
};
use crate::wire::{openai, sse, tokens, CannedResponse};

fn bad_request(message: &str, param: Option<&str>, code: Option<&str>) -> CannedResponse {
    openai::error(400, message, "invalid_request_error", param, code)
}

/// Reads a Responses request: `model`, `input` (a string, or a list of messages whose content
/// is a string or a list of parts), optional `instructions`, `max_output_tokens`, `stream`.
pub fn parse(request: &Value) -> Result<Ask, CannedResponse> {
    let model = request["model"].as_str().ok_or_else(|| {
        bad_request("Missing required parameter: 'model'.", Some("model"), Some("missing_required_parameter"))
    })?;
    let mut messages = match &request["input"] {
        Value::String(text) => vec![json!({ "role": "user", "content": text })],
        Value::Array(items) if !items.is_empty() => items.clone(),
        _ => {
            return Err(bad_request(
                "Missing required parameter: 'input'.",
                Some("input"),
                Some("missing_required_parameter"),
            ))
        }
    };
    if let Some(instructions) = request["instructions"].as_str() {
        messages.push(json!({ "role": "developer", "content": instructions }));
    }
    let limit = request["max_output_tokens"].as_u64();
    if let Some(limit) = limit.filter(|limit| *limit > tokens::MAX_OUTPUT_TOKENS) {
        let message = format!(
            "max_output_tokens is too large: {limit}. This model supports at most {} output tokens.",
            tokens::MAX_OUTPUT_TOKENS
        );
        return Err(bad_request(&message, Some("max_output_tokens"), Some("invalid_value")));
    }
    Ok(Ask {
        model: model.to_owned(),
        prompt_tokens: tokens::prompt_tokens(&messages),
        limit,
        stream: request["stream"].as_bool() == Some(true),
        include_usage: false,
        endpoint: Endpoint::Responses,
        embeddings: None,
        tools: None,
    })
}

fn hex_id(prefix: &str) -> String {
    format!("{prefix}_{:048x}", rand::random::<u128>() >> 32)
}

fn usage(generation: &Generation) -> Value {
    json!({
        "input_tokens": generation.prompt_tokens,
        "input_tokens_details": { "cached_tokens": 0 },
        "output_tokens": generation.output_tokens,
        "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": generation.prompt_tokens + generation.output_tokens,
    })
}

/// The ids one answer uses throughout.
struct Ids {
    response: String,
    message: String,
}

fn output_text(text: &str) -> Value {
    json!({ "type": "output_text", "text": text, "annotations": [], "logprobs": [] })
}

fn message(ids: &Ids, status: &str, content: Vec<Value>) -> Value {
    json!({ "type": "message", "id": ids.message, "status": status, "role": "assistant", "content": content })
}

/// The `response` object: `in_progress` with no output yet, or finished with its output and usage.
fn response(ids: &Ids, generation: &Generation, finished: bool) -> Value {
    let (status, incomplete, output, usage) = match finished {
        false => ("in_progress", Value::Null, vec![], Value::Null),
        true if generation.truncated => (
            "incomplete",
            json!({ "reason": "max_output_tokens" }),
            vec![message(ids, "incomplete", vec![output_text(&generation.text())])],
            self::usage(generation),
        ),
        true => (
            "completed",
            Value::Null,
            vec![message(ids, "completed", vec![output_text(&generation.text())])],
            self::usage(generation),
        ),
    };
    json!({
        "id": ids.response,
        "object": "response",
        "created_at": generation.created,
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": null,
        "max_output_tokens": null,
        "model": generation.model,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": { "effort": null, "summary": null },
        "service_tier": "default",
        "store": true,
        "temperature": 1.0,
        "text": { "format": { "type": "text" } },
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": null,
        "metadata": {},
    })
}

/// The whole `response` object of a non-streaming request.
pub fn complete(generation: &Generation) -> Value {
    response(&Ids { response: hex_id("resp"), message: hex_id("msg") }, generation, true)
}

/// The events of one streamed response.
pub fn stream(generation: Generation) -> Box<dyn EventScript> {
    let ids = Ids { response: hex_id("resp"), message: hex_id("msg") };
    let at = generation.latency.ttft;
    let item = json!({ "item_id": ids.message, "output_index": 0, "content_index": 0 });
    let delta = Template::new(|text| {
        let mut data = item.clone();
        data["type"] = "response.output_text.delta".into();
        data["sequence_number"] = u64::MAX.into();
        data["delta"] = text.into();
        data["logprobs"] = json!([]);
        sse::named("response.output_text.delta", &data)
    });
    Box::new(ResponseScript {
        ids,
        generation,
        delta,
        item,
        stage: Stage::Created,
        written: 0,
        sequence: 0,
        at,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Created,
    InProgress,
    ItemAdded,
    PartAdded,
    Deltas,
    PartDone,
    ItemDone,
    Finished,
    End,
}

struct ResponseScript {
    ids: Ids,
    generation: Generation,
    /// A delta event with holes for its text (its sequence number is patched in).
    delta: Template,
    /// `item_id`, `output_index`, `content_index`: what the per-part events share.
    item: Value,
    stage: Stage,
    written: u64,
    sequence: u64,
    at: Duration,
}

impl ResponseScript {
    fn event(&mut self, kind: &str, fields: Value) -> bytes::Bytes {
        let mut data = json!({ "type": kind, "sequence_number": self.sequence });
        if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        self.sequence += 1;
        sse::named(kind, &data)
    }

    fn part_event(&mut self, kind: &str, extra: Value) -> bytes::Bytes {
        let mut fields = self.item.clone();
        if let (Some(fields), Value::Object(extra)) = (fields.as_object_mut(), extra) {
            fields.extend(extra);
        }
        self.event(kind, fields)
    }

    fn delta(&mut self) -> bytes::Bytes {
        let text = Generation::token_text(self.written);
        let filled = self.delta.fill(text);
        // The template carries u64::MAX as its sequence number: one textual swap per token.
        let marker = u64::MAX.to_string();
        let rendered = String::from_utf8_lossy(&filled).replacen(&marker, &self.sequence.to_string(), 1);
        self.sequence += 1;
        bytes::Bytes::from(rendered)
    }
}

impl EventScript for ResponseScript {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        let event = match self.stage {
            Stage::Created => {
                self.stage = Stage::InProgress;
                let response = response(&self.ids, &self.generation, false);
                self.event("response.created", json!({ "response": response }))
            }
            Stage::InProgress => {
                self.stage = Stage::ItemAdded;
                let response = response(&self.ids, &self.generation, false);
                self.event("response.in_progress", json!({ "response": response }))
            }
            Stage::ItemAdded => {
                self.stage = Stage::PartAdded;
                let item = message(&self.ids, "in_progress", vec![]);
                self.event("response.output_item.added", json!({ "output_index": 0, "item": item }))
            }
            Stage::PartAdded => {
                self.stage = Stage::Deltas;
                self.part_event("response.content_part.added", json!({ "part": output_text("") }))
            }
            Stage::Deltas if self.written < self.generation.output_tokens => {
                self.at = self.generation.next_token_at();
                let event = self.delta();
                self.written += 1;
                event
            }
            Stage::Deltas => {
                self.stage = Stage::PartDone;
                let text = self.generation.text();
                self.part_event("response.output_text.done", json!({ "text": text, "logprobs": [] }))
            }
            Stage::PartDone => {
                self.stage = Stage::ItemDone;
                let part = output_text(&self.generation.text());
                self.part_event("response.content_part.done", json!({ "part": part }))
            }
            Stage::ItemDone => {
                self.stage = Stage::Finished;
                let status = if self.generation.truncated { "incomplete" } else { "completed" };
                let item = message(&self.ids, status, vec![output_text(&self.generation.text())]);
                self.event("response.output_item.done", json!({ "output_index": 0, "item": item }))
            }
            Stage::Finished => {
                self.stage = Stage::End;
                let kind =
                    if self.generation.truncated { "response.incomplete" } else { "response.completed" };
                let response = response(&self.ids, &self.generation, true);
                self.event(kind, json!({ "response": response }))
            }
            Stage::End => return None,
        };
        Some((self.at, event))
    }
}
