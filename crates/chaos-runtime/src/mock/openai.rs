//! The OpenAI dialect: `POST /v1/chat/completions` (JSON or `data:` chunks ending with
//! `[DONE]`, the `include_usage` chunk when asked), `POST /v1/responses`
//! ([`super::openai_responses`]), `POST /v1/embeddings` ([`super::openai_embeddings`]),
//! `GET /v1/models`, and OpenAI's errors.

use std::time::Duration;

use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::{
    dialect::{Dialect, Route},
    generation::{Ask, Endpoint, Generation},
    openai_embeddings, openai_responses, openai_tools,
    paced::EventScript,
    template::Template,
};
use crate::wire::{openai, request_id, sse, tokens, CannedResponse, LimitHeaders};

/// The OpenAI dialect.
pub struct OpenAi;

const RESPONSES_PATH: &str = "/v1/responses";

fn bad_request(message: &str, param: Option<&str>, code: Option<&str>) -> CannedResponse {
    openai::error(400, message, "invalid_request_error", param, code)
}

fn completion_id() -> String {
    format!("chatcmpl-{:024x}", rand::random::<u128>() >> 32)
}

fn usage(generation: &Generation) -> Value {
    json!({
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.output_tokens,
        "total_tokens": generation.prompt_tokens + generation.output_tokens,
        "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
        "completion_tokens_details": { "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0 },
    })
}

fn model_object(id: &str) -> Value {
    json!({ "id": id, "object": "model", "created": 1_700_000_000, "owned_by": "chaos" })
}

/// The headers OpenAI puts on a successful answer.
fn success_headers(response: CannedResponse, processing: Duration) -> CannedResponse {
    response
        .with_header("x-request-id", request_id())
        .with_header(openai::VERSION.0, openai::VERSION.1)
        .with_header("openai-processing-ms", processing.as_millis().to_string())
}

fn finish_reason(generation: &Generation) -> &'static str {
    if generation.tool_call.is_some() {
        "tool_calls"
    } else if generation.truncated {
        "length"
    } else {
        "stop"
    }
}

impl Dialect for OpenAi {
    fn route(&self, method: &Method, path: &str) -> Route {
        match (method, path) {
            (&Method::POST, "/v1/chat/completions" | RESPONSES_PATH | openai_embeddings::PATH) => {
                Route::Generate
            }
            (&Method::GET, "/v1/models") => Route::Models,
            (&Method::GET, path) if path.starts_with("/v1/models/") => Route::Model,
            _ => Route::Unknown,
        }
    }

    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str {
        crate::wire::bearer(headers).unwrap_or("")
    }

    fn unauthorized(&self, presented: &str) -> CannedResponse {
        if presented.is_empty() {
            let message = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";
            openai::error(401, message, "invalid_request_error", None, None)
        } else {
            let message = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.";
            openai::error(401, message, "invalid_request_error", None, Some("invalid_api_key"))
        }
    }

    fn parse(&self, path: &str, _headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse> {
        let request: Value = serde_json::from_slice(body).map_err(|_| {
            bad_request("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)", None, None)
        })?;
        match path {
            RESPONSES_PATH => openai_responses::parse(&request),
            openai_embeddings::PATH => openai_embeddings::parse(&request),
            _ => parse_chat(&request),
        }
    }

    fn not_found(&self, method: &Method, path: &str) -> CannedResponse {
        openai::error(404, &format!("Invalid URL ({method} {path})"), "invalid_request_error", None, None)
    }

    fn too_large(&self) -> CannedResponse {
        crate::wire::too_large(crate::wire::ApiFamily::OpenAi)
    }

    fn models(&self, models: &[String]) -> CannedResponse {
        let data: Vec<Value> = models.iter().map(|id| model_object(id)).collect();
        success_headers(CannedResponse::json(200, &json!({ "object": "list", "data": data })), Duration::ZERO)
    }

    fn model(&self, id: &str, listed: bool) -> CannedResponse {
        if listed {
            return success_headers(CannedResponse::json(200, &model_object(id)), Duration::ZERO);
        }
        let message = format!("The model `{id}` does not exist or you do not have access to it.");
        openai::error(404, &message, "invalid_request_error", None, Some("model_not_found"))
    }

    fn overloaded(&self) -> CannedResponse {
        openai::server_error(503)
    }

    fn with_limit_headers(&self, response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
        openai::limit_headers(response, state)
    }

    fn complete(&self, generation: &Generation) -> CannedResponse {
        let body = match generation.endpoint {
            Endpoint::Responses => Some(openai_responses::complete(generation).to_string().into()),
            Endpoint::Embeddings => Some(openai_embeddings::complete(generation)),
            Endpoint::Chat => None,
        };
        if let Some(body) = body {
            let answer = CannedResponse::new(200, "application/json", body);
            return success_headers(answer, generation.nominal_time());
        }
        success_headers(
            CannedResponse::json(200, &chat_answer(generation, &PLAIN)),
            generation.nominal_time(),
        )
    }

    fn stream_head(&self) -> CannedResponse {
        success_headers(CannedResponse::new(200, sse::CONTENT_TYPE, bytes::Bytes::new()), Duration::ZERO)
    }

    fn stream(&self, generation: Generation) -> Box<dyn EventScript> {
        if generation.endpoint == Endpoint::Responses {
            return openai_responses::stream(generation);
        }
        chat_stream(generation, PLAIN)
    }
}

/// How a family built on Chat Completions changes its answers: Azure adds its content-filter
/// results ([`super::azure`]).
#[derive(Clone, Copy)]
pub(super) struct Flavor {
    /// Applied to every choice, of an answer or a chunk.
    pub choice: fn(&mut Value),
    /// Applied to a whole (not streamed) answer.
    pub answer: fn(&mut Value),
    /// The event a stream begins with, before the role's chunk.
    pub preamble: Option<fn() -> Value>,
}

/// OpenAI's own answers.
const PLAIN: Flavor = Flavor { choice: |_| {}, answer: |_| {}, preamble: None };

/// A whole Chat Completions answer.
pub(super) fn chat_answer(generation: &Generation, flavor: &Flavor) -> Value {
    let message = match &generation.tool_call {
        Some(call) => openai_tools::message(call),
        None => {
            json!({ "role": "assistant", "content": generation.text(), "refusal": null, "annotations": [] })
        }
    };
    let mut choice = json!({
        "index": 0,
        "message": message,
        "logprobs": null,
        "finish_reason": finish_reason(generation),
    });
    (flavor.choice)(&mut choice);
    let mut body = json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": generation.created,
        "model": generation.model,
        "system_fingerprint": "fp_chaos",
        "choices": [choice],
        "usage": usage(generation),
        "service_tier": "default",
    });
    (flavor.answer)(&mut body);
    body
}

/// The chunks of a streamed Chat Completions answer.
pub(super) fn chat_stream(generation: Generation, flavor: Flavor) -> Box<dyn EventScript> {
    let at = generation.latency.ttft;
    let id = completion_id();
    let content = Template::new(|text| {
        let delta = match generation.tool_call {
            Some(_) => openai_tools::arguments_delta(text),
            None => json!({ "content": text }),
        };
        chunk(&id, &generation, delta, None, &flavor)
    });
    let stage = if flavor.preamble.is_some() { Stage::Preamble } else { Stage::Role };
    Box::new(ChunkScript { id, generation, content, flavor, stage, written: 0, at })
}

/// Reads a Chat Completions request, or the 400 OpenAI sends for it.
pub(super) fn parse_chat(request: &Value) -> Result<Ask, CannedResponse> {
    let model = request["model"]
        .as_str()
        .ok_or_else(|| bad_request("you must provide a model parameter", None, None))?;
    let messages = request["messages"].as_array().ok_or_else(|| {
        bad_request(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        )
    })?;
    if messages.is_empty() {
        return Err(bad_request("[] is too short - 'messages'", Some("messages"), None));
    }
    let (param, limit) = match request["max_completion_tokens"].as_u64() {
        Some(limit) => ("max_completion_tokens", Some(limit)),
        None => ("max_tokens", request["max_tokens"].as_u64()),
    };
    if let Some(limit) = limit.filter(|limit| *limit > tokens::MAX_OUTPUT_TOKENS) {
        let message = format!(
                "{param} is too large: {limit}. This model supports at most {} completion tokens, whereas you provided {limit}.",
                tokens::MAX_OUTPUT_TOKENS
            );
        return Err(bad_request(&message, Some(param), Some("invalid_value")));
    }
    let tools = openai_tools::parse(request)?;
    Ok(Ask {
        model: model.to_owned(),
        prompt_tokens: tokens::prompt_tokens(messages)
            + super::tool_call::definition_tokens(&request["tools"]),
        limit,
        stream: request["stream"].as_bool() == Some(true),
        include_usage: request["stream_options"]["include_usage"].as_bool() == Some(true),
        endpoint: Endpoint::Chat,
        embeddings: None,
        tools,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Preamble,
    Role,
    Content,
    Finish,
    Usage,
    Done,
    End,
}

/// The chunks of one streamed completion.
struct ChunkScript {
    id: String,
    generation: Generation,
    /// A content chunk, pre-rendered: each token only fills in its text.
    content: Template,
    flavor: Flavor,
    stage: Stage,
    written: u64,
    /// Offset of the latest event.
    at: Duration,
}

impl ChunkScript {
    fn chunk(&self, delta: Value, finish: Option<&str>) -> bytes::Bytes {
        chunk(&self.id, &self.generation, delta, finish, &self.flavor)
    }
}

/// One `chat.completion.chunk` event.
fn chunk(
    id: &str,
    generation: &Generation,
    delta: Value,
    finish: Option<&str>,
    flavor: &Flavor,
) -> bytes::Bytes {
    let mut choice = json!({ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish });
    (flavor.choice)(&mut choice);
    let mut chunk = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": generation.created,
        "model": generation.model,
        "system_fingerprint": "fp_chaos",
        "choices": [choice],
    });
    if generation.include_usage {
        chunk["usage"] = Value::Null;
    }
    sse::data(&chunk)
}

impl EventScript for ChunkScript {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        loop {
            let event = match self.stage {
                Stage::Preamble => {
                    self.stage = Stage::Role;
                    match self.flavor.preamble {
                        Some(preamble) => sse::data(&preamble()),
                        None => continue,
                    }
                }
                Stage::Role => {
                    self.stage = Stage::Content;
                    let first = match &self.generation.tool_call {
                        Some(call) => openai_tools::first_delta(call),
                        None => json!({ "role": "assistant", "content": "", "refusal": null }),
                    };
                    self.chunk(first, None)
                }
                Stage::Content if self.written < self.generation.output_tokens => {
                    self.at = self.generation.next_token_at();
                    let event = self.content.fill(self.generation.piece(self.written));
                    self.written += 1;
                    event
                }
                Stage::Content => {
                    self.stage = Stage::Finish;
                    continue;
                }
                Stage::Finish => {
                    self.stage = if self.generation.include_usage { Stage::Usage } else { Stage::Done };
                    self.chunk(json!({}), Some(finish_reason(&self.generation)))
                }
                Stage::Usage => {
                    self.stage = Stage::Done;
                    let generation = &self.generation;
                    sse::data(&json!({
                        "id": self.id,
                        "object": "chat.completion.chunk",
                        "created": generation.created,
                        "model": generation.model,
                        "system_fingerprint": "fp_chaos",
                        "choices": [],
                        "usage": usage(generation),
                    }))
                }
                Stage::Done => {
                    self.stage = Stage::End;
                    bytes::Bytes::from_static(sse::DONE)
                }
                Stage::End => return None,
            };
            return Some((self.at, event));
        }
    }
}
