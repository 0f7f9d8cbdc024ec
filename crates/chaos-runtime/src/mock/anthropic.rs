//! The Anthropic dialect: `POST /v1/messages` (JSON, or named SSE events in the real order:
//! `message_start`, `content_block_start`, `ping`, `content_block_delta`…, `content_block_stop`,
//! `message_delta` with cumulative usage, `message_stop`), `GET /v1/models`, Anthropic's errors.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::{
    anthropic_tools,
    dialect::{Dialect, Route},
    generation::{Ask, Generation},
    paced::EventScript,
    template::Template,
    tool_call,
};
use crate::wire::{anthropic, request_id, sse, tokens, CannedResponse, LimitHeaders};

/// The Anthropic Messages dialect.
pub struct Anthropic;

fn bad_request(message: &str) -> CannedResponse {
    anthropic::error(400, "invalid_request_error", message)
}

fn message_id() -> String {
    format!("msg_01{:022x}", rand::random::<u128>() >> 40)
}

fn usage(input: u64, output: u64) -> Value {
    json!({ "input_tokens": input, "output_tokens": output, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0 })
}

fn model_object(id: &str) -> Value {
    json!({ "type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z" })
}

/// Estimated input tokens of a request: its messages plus the system prompt, if any.
fn input_tokens(messages: &[Value], system: &Value) -> u64 {
    let system = match system {
        Value::Null => 0,
        system => tokens::prompt_tokens(&[json!({ "content": system })]) - tokens::REPLY_PRIMING_TOKENS,
    };
    tokens::prompt_tokens(messages) + system
}

impl Dialect for Anthropic {
    fn route(&self, method: &Method, path: &str) -> Route {
        match (method, path) {
            (&Method::POST, "/v1/messages") => Route::Generate,
            (&Method::GET, "/v1/models") => Route::Models,
            (&Method::GET, path) if path.starts_with("/v1/models/") => Route::Model,
            _ => Route::Unknown,
        }
    }

    /// `x-api-key`, or `Authorization: Bearer` (what anthropic-python ≥ 2.0 sends).
    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str {
        crate::wire::presented_key(headers).unwrap_or("")
    }

    fn unauthorized(&self, presented: &str) -> CannedResponse {
        let message = if presented.is_empty() { "x-api-key header is required" } else { "invalid x-api-key" };
        anthropic::error(401, "authentication_error", message)
    }

    fn parse(&self, _path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse> {
        if !headers.contains_key("anthropic-version") {
            return Err(bad_request("anthropic-version: header is required"));
        }
        let request: Value = serde_json::from_slice(body)
            .map_err(|_| bad_request("There was an issue with your request body: invalid JSON"))?;
        let model = request["model"].as_str().ok_or_else(|| bad_request("model: Field required"))?;
        let limit =
            request["max_tokens"].as_u64().ok_or_else(|| bad_request("max_tokens: Field required"))?;
        if limit > tokens::MAX_OUTPUT_TOKENS {
            return Err(bad_request(&format!(
                "max_tokens: {limit} > {}, which is the maximum allowed number of output tokens for {model}",
                tokens::MAX_OUTPUT_TOKENS
            )));
        }
        let messages =
            request["messages"].as_array().ok_or_else(|| bad_request("messages: Field required"))?;
        let tools = anthropic_tools::parse(&request)?;
        Ok(Ask {
            model: model.to_owned(),
            prompt_tokens: input_tokens(messages, &request["system"])
                + tool_call::definition_tokens(&request["tools"]),
            limit: Some(limit),
            stream: request["stream"].as_bool() == Some(true),
            include_usage: true,
            endpoint: super::generation::Endpoint::Chat,
            embeddings: None,
            tools,
        })
    }

    fn not_found(&self, _method: &Method, _path: &str) -> CannedResponse {
        anthropic::error(404, "not_found_error", "Not found")
    }

    fn too_large(&self) -> CannedResponse {
        crate::wire::too_large(crate::wire::ApiFamily::Anthropic)
    }

    fn models(&self, models: &[String]) -> CannedResponse {
        let data: Vec<Value> = models.iter().map(|id| model_object(id)).collect();
        let body =
            json!({ "data": data, "has_more": false, "first_id": models.first(), "last_id": models.last() });
        CannedResponse::json(200, &body).with_header("request-id", request_id())
    }

    fn model(&self, id: &str, listed: bool) -> CannedResponse {
        if listed {
            return CannedResponse::json(200, &model_object(id)).with_header("request-id", request_id());
        }
        anthropic::error(404, "not_found_error", &format!("model: {id}"))
    }

    fn overloaded(&self) -> CannedResponse {
        anthropic::server_error(529)
    }

    fn with_limit_headers(&self, response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
        anthropic::limit_headers(response, state, SystemTime::now())
    }

    fn complete(&self, generation: &Generation) -> CannedResponse {
        let block = match &generation.tool_call {
            Some(call) => anthropic_tools::block(call),
            None => json!({ "type": "text", "text": generation.text() }),
        };
        let body = json!({
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": generation.model,
            "content": [block],
            "stop_reason": generation.stop_reason(),
            "stop_sequence": null,
            "usage": usage(generation.prompt_tokens, generation.output_tokens),
        });
        CannedResponse::json(200, &body).with_header("request-id", request_id())
    }

    fn stream_head(&self) -> CannedResponse {
        CannedResponse::new(200, sse::CONTENT_TYPE, bytes::Bytes::new())
            .with_header("request-id", request_id())
    }

    fn stream(&self, generation: Generation) -> Box<dyn EventScript> {
        let delta = Template::new(|text| {
            let delta = match generation.tool_call {
                Some(_) => anthropic_tools::input_delta(text),
                None => json!({ "type": "text_delta", "text": text }),
            };
            sse::named(
                "content_block_delta",
                &json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
            )
        });
        Box::new(EventsScript {
            id: message_id(),
            generation,
            delta,
            stage: Stage::MessageStart,
            written: 0,
            at: Duration::ZERO,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    MessageStart,
    BlockStart,
    Ping,
    Deltas,
    BlockStop,
    MessageDelta,
    MessageStop,
    End,
}

/// The named events of one streamed message.
struct EventsScript {
    id: String,
    generation: Generation,
    /// A `content_block_delta`, pre-rendered: each token only fills in its text.
    delta: Template,
    stage: Stage,
    written: u64,
    at: Duration,
}

impl EventScript for EventsScript {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        let generation = &mut self.generation;
        let (name, data) = match self.stage {
            Stage::MessageStart => {
                self.stage = Stage::BlockStart;
                let message = json!({
                    "id": self.id, "type": "message", "role": "assistant", "model": generation.model, "content": [],
                    "stop_reason": null, "stop_sequence": null, "usage": usage(generation.prompt_tokens, 1),
                });
                ("message_start", json!({ "type": "message_start", "message": message }))
            }
            Stage::BlockStart => {
                self.stage = Stage::Ping;
                let block = match &generation.tool_call {
                    Some(call) => anthropic_tools::opening_block(call),
                    None => json!({ "type": "text", "text": "" }),
                };
                (
                    "content_block_start",
                    json!({ "type": "content_block_start", "index": 0, "content_block": block }),
                )
            }
            Stage::Ping => {
                self.stage = if generation.output_tokens > 0 { Stage::Deltas } else { Stage::BlockStop };
                ("ping", json!({ "type": "ping" }))
            }
            Stage::Deltas => {
                self.at = generation.next_token_at();
                let event = self.delta.fill(generation.piece(self.written));
                self.written += 1;
                if self.written >= generation.output_tokens {
                    self.stage = Stage::BlockStop;
                }
                return Some((self.at, event));
            }
            Stage::BlockStop => {
                self.stage = Stage::MessageDelta;
                ("content_block_stop", json!({ "type": "content_block_stop", "index": 0 }))
            }
            Stage::MessageDelta => {
                self.stage = Stage::MessageStop;
                let delta = json!({ "stop_reason": generation.stop_reason(), "stop_sequence": null });
                let usage = json!({ "output_tokens": generation.output_tokens });
                ("message_delta", json!({ "type": "message_delta", "delta": delta, "usage": usage }))
            }
            Stage::MessageStop => {
                self.stage = Stage::End;
                ("message_stop", json!({ "type": "message_stop" }))
            }
            Stage::End => return None,
        };
        Some((self.at, sse::named(name, &data)))
    }
}
