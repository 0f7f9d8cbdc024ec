//! The Bedrock dialect: `POST /model/{modelId}/converse` (JSON `output.message`, `stopReason`,
//! `usage`, `metrics`) and `POST /model/{modelId}/converse-stream` (AWS event-stream frames in
//! the real order: `messageStart`, `contentBlockDelta`…, `contentBlockStop`, `messageStop`,
//! `metadata` with usage and metrics), Bedrock's errors (`x-amzn-ErrorType`, `{"message"}`).
//! A SigV4 `Authorization` is accepted, not verified: its access key id is the key presented
//! (a `Bearer` Bedrock API key too). Tool use (`toolConfig` → a `toolUse` block, streamed as a
//! `contentBlockStart` and `toolUse.input` fragments) is in [`super::bedrock_tools`].

use std::time::Duration;

use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::{
    bedrock_tools,
    dialect::{Dialect, Route},
    generation::{Ask, Generation},
    paced::EventScript,
    tool_call,
};
use crate::wire::{bedrock, eventstream, tokens, ApiFamily, CannedResponse, LimitHeaders};

/// The Bedrock Converse dialect.
pub struct Bedrock;

fn invalid(message: &str) -> CannedResponse {
    bedrock::error(400, "ValidationException", message)
}

fn usage(generation: &Generation) -> Value {
    let (input, output) = (generation.prompt_tokens, generation.output_tokens);
    json!({ "inputTokens": input, "outputTokens": output, "totalTokens": input + output })
}

fn metrics(generation: &Generation) -> Value {
    json!({ "latencyMs": generation.nominal_time().as_millis() as u64 })
}

/// Estimated input tokens: the messages' content blocks plus the `system` blocks, if any.
fn input_tokens(messages: &[Value], system: &Value) -> u64 {
    let system = match system {
        Value::Array(blocks) if !blocks.is_empty() => {
            tokens::prompt_tokens(&[json!({ "content": system })]) - tokens::REPLY_PRIMING_TOKENS
        }
        _ => 0,
    };
    tokens::prompt_tokens(messages) + system
}

impl Dialect for Bedrock {
    fn route(&self, method: &Method, path: &str) -> Route {
        match (method, bedrock::converse_path(path)) {
            (&Method::POST, Some(_)) => Route::Generate,
            _ => Route::Unknown,
        }
    }

    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str {
        bedrock::presented_key(headers).unwrap_or("")
    }

    fn unauthorized(&self, presented: &str) -> CannedResponse {
        match presented.is_empty() {
            true => {
                bedrock::error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
            }
            false => bedrock::error(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        }
    }

    fn parse(&self, path: &str, _headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse> {
        let converse = bedrock::converse_path(path)
            .ok_or_else(|| invalid("The provided model identifier is invalid."))?;
        let request: Value = serde_json::from_slice(body)
            .map_err(|_| invalid("Malformed input request, please reformat your input and try again."))?;
        let messages = request["messages"].as_array().filter(|m| !m.is_empty()).ok_or_else(|| {
            invalid("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
        })?;
        let limit = match &request["inferenceConfig"]["maxTokens"] {
            Value::Null => None,
            value => Some(value.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                invalid("1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1")
            })?),
        };
        if let Some(limit) = limit.filter(|limit| *limit > tokens::MAX_OUTPUT_TOKENS) {
            return Err(invalid(&format!(
                "The maximum tokens you requested exceeds the model limit of {}. Try again with a maximum tokens value that is lower than {}.",
                tokens::MAX_OUTPUT_TOKENS, limit
            )));
        }
        let tools = bedrock_tools::parse(&request)?;
        Ok(Ask {
            prompt_tokens: input_tokens(messages, &request["system"])
                + tool_call::definition_tokens(&request["toolConfig"]["tools"]),
            model: converse.model,
            limit,
            stream: converse.stream,
            include_usage: true,
            endpoint: super::generation::Endpoint::Chat,
            embeddings: None,
            tools,
        })
    }

    fn not_found(&self, _method: &Method, path: &str) -> CannedResponse {
        bedrock::error(404, "UnknownOperationException", &format!("Unknown operation: {path}"))
    }

    fn too_large(&self) -> CannedResponse {
        crate::wire::too_large(ApiFamily::Bedrock)
    }

    /// Bedrock's runtime lists no models (that is the `bedrock` control plane's API).
    fn models(&self, _models: &[String]) -> CannedResponse {
        self.not_found(&Method::GET, "/foundation-models")
    }

    fn model(&self, id: &str, _listed: bool) -> CannedResponse {
        self.not_found(&Method::GET, &format!("/foundation-models/{id}"))
    }

    fn overloaded(&self) -> CannedResponse {
        bedrock::failure(503)
    }

    /// Bedrock sends no rate-limit headers.
    fn with_limit_headers(&self, response: CannedResponse, _state: &LimitHeaders) -> CannedResponse {
        response
    }

    fn complete(&self, generation: &Generation) -> CannedResponse {
        let block = match &generation.tool_call {
            Some(call) => bedrock_tools::block(call),
            None => json!({ "text": generation.text() }),
        };
        let body = json!({
            "output": { "message": { "role": "assistant", "content": [block] } },
            "stopReason": generation.stop_reason(),
            "usage": usage(generation),
            "metrics": metrics(generation),
        });
        CannedResponse::json(200, &body).with_header("x-amzn-requestid", bedrock::request_id())
    }

    fn stream_head(&self) -> CannedResponse {
        CannedResponse::new(200, eventstream::CONTENT_TYPE, bytes::Bytes::new())
            .with_header("x-amzn-requestid", bedrock::request_id())
    }

    fn stream(&self, generation: Generation) -> Box<dyn EventScript> {
        Box::new(FramesScript { generation, stage: Stage::MessageStart, written: 0, at: Duration::ZERO })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    MessageStart,
    /// A tool call's block opens with its id and name; a text block opens with its first delta.
    BlockStart,
    Deltas,
    BlockStop,
    MessageStop,
    Metadata,
    End,
}

/// The frames of one streamed answer.
struct FramesScript {
    generation: Generation,
    stage: Stage,
    written: u64,
    at: Duration,
}

impl EventScript for FramesScript {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        let generation = &mut self.generation;
        let (event_type, payload) = match self.stage {
            Stage::MessageStart => {
                self.stage = match (&generation.tool_call, generation.output_tokens) {
                    (Some(_), _) => Stage::BlockStart,
                    (None, 0) => Stage::BlockStop,
                    (None, _) => Stage::Deltas,
                };
                ("messageStart", json!({ "role": "assistant" }))
            }
            Stage::BlockStart => {
                self.stage = if generation.output_tokens > 0 { Stage::Deltas } else { Stage::BlockStop };
                let start = generation.tool_call.as_ref().map(bedrock_tools::start);
                ("contentBlockStart", json!({ "contentBlockIndex": 0, "start": start }))
            }
            Stage::Deltas => {
                self.at = generation.next_token_at();
                let piece = generation.piece(self.written);
                let delta = match generation.tool_call {
                    Some(_) => bedrock_tools::input_delta(piece),
                    None => json!({ "text": piece }),
                };
                let delta = json!({ "contentBlockIndex": 0, "delta": delta });
                self.written += 1;
                if self.written >= generation.output_tokens {
                    self.stage = Stage::BlockStop;
                }
                return Some((self.at, bedrock::event("contentBlockDelta", &delta)));
            }
            Stage::BlockStop => {
                self.stage = Stage::MessageStop;
                ("contentBlockStop", json!({ "contentBlockIndex": 0 }))
            }
            Stage::MessageStop => {
                self.stage = Stage::Metadata;
                ("messageStop", json!({ "stopReason": generation.stop_reason() }))
            }
            Stage::Metadata => {
                self.stage = Stage::End;
                ("metadata", json!({ "usage": usage(generation), "metrics": metrics(generation) }))
            }
            Stage::End => return None,
        };
        Some((self.at, bedrock::event(event_type, &payload)))
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;
    use crate::scenario::mock_answer::{LatencyModel, OutputLength};

    fn ask(path: &str, body: Value) -> Result<Ask, CannedResponse> {
        Bedrock.parse(path, &HeaderMap::new(), body.to_string().as_bytes())
    }

    fn converse() -> Value {
        json!({ "messages": [{ "role": "user", "content": [{ "text": "hello" }] }], "inferenceConfig": { "maxTokens": 3 } })
    }

    #[test]
    fn the_path_gives_model_and_stream_and_the_body_the_limit() {
        let streamed = ask("/model/amazon.nova-micro-v1%3A0/converse-stream", converse()).unwrap();
        assert_eq!(
            (streamed.model.as_str(), streamed.stream, streamed.limit),
            ("amazon.nova-micro-v1:0", true, Some(3))
        );
        assert!(streamed.prompt_tokens > 0);
        assert!(!ask("/model/m/converse", converse()).unwrap().stream);
        let empty = ask("/model/m/converse", json!({ "messages": [] })).unwrap_err();
        assert_eq!(empty.status, 400);
        let huge = ask(
            "/model/m/converse",
            json!({ "messages": [{}], "inferenceConfig": { "maxTokens": 10_000_000 } }),
        );
        assert_eq!(huge.unwrap_err().status, 400);
        assert_eq!(Bedrock.route(&Method::POST, "/model/m/converse"), Route::Generate);
        assert_eq!(Bedrock.route(&Method::GET, "/model/m/converse"), Route::Unknown);
    }

    #[test]
    fn a_stream_is_whole_frames_in_bedrock_s_order_ending_with_usage() {
        let ask = ask("/model/m/converse-stream", converse()).unwrap();
        let generation =
            Generation::new(ask, LatencyModel::default(), OutputLength::UpToLimit, StdRng::seed_from_u64(1));
        let mut script = Bedrock.stream(generation);
        let mut names = Vec::new();
        let mut last = Vec::new();
        while let Some((_, bytes)) = script.next_event() {
            let frame = eventstream::Frame::decode(&bytes).expect("a whole frame");
            assert_eq!(frame.message_type(), Some("event"));
            names.push(frame.event_type().unwrap().to_owned());
            last = frame.payload.to_vec();
        }
        let expected = [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata",
        ];
        assert_eq!(names, expected);
        let metadata: Value = serde_json::from_slice(&last).unwrap();
        assert_eq!(metadata["usage"]["outputTokens"], 3);
        assert!(metadata["metrics"]["latencyMs"].is_u64());
    }

    #[test]
    fn a_tool_call_is_a_tool_use_block_whole_and_a_start_and_input_fragments_streamed() {
        let schema =
            json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] });
        let mut body = converse();
        body["inferenceConfig"]["maxTokens"] = json!(500);
        body["toolConfig"] =
            json!({ "tools": [{ "toolSpec": { "name": "weather", "inputSchema": { "json": schema } } }] });
        let generation = |path| {
            let ask = ask(path, body.clone()).unwrap();
            Generation::new(ask, LatencyModel::default(), OutputLength::UpToLimit, StdRng::seed_from_u64(1))
        };
        let whole: Value =
            serde_json::from_slice(&Bedrock.complete(&generation("/model/m/converse")).body).unwrap();
        let block = &whole["output"]["message"]["content"][0]["toolUse"];
        assert_eq!((&block["name"], whole["stopReason"].as_str()), (&json!("weather"), Some("tool_use")));
        assert!(block["input"]["city"].is_string(), "{block}");
        assert!(block["toolUseId"].as_str().unwrap().starts_with("tooluse_"));

        let streamed = generation("/model/m/converse-stream");
        let call = streamed.tool_call.clone().expect("auto calls on the user's turn");
        let mut script = Bedrock.stream(streamed);
        let (mut names, mut input, mut stop) = (Vec::new(), String::new(), Value::Null);
        while let Some((_, bytes)) = script.next_event() {
            let frame = eventstream::Frame::decode(&bytes).expect("a whole frame");
            let payload: Value = serde_json::from_slice(frame.payload).unwrap();
            let name = frame.event_type().unwrap().to_owned();
            match name.as_str() {
                "contentBlockStart" => assert_eq!(payload["start"]["toolUse"]["name"], "weather"),
                "contentBlockDelta" => input.push_str(payload["delta"]["toolUse"]["input"].as_str().unwrap()),
                "messageStop" => stop = payload["stopReason"].clone(),
                _ => {}
            }
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        let expected = [
            "messageStart",
            "contentBlockStart",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata",
        ];
        assert_eq!(names, expected);
        assert_eq!((input, stop), (call.arguments, json!("tool_use")));
    }

    #[test]
    fn a_key_comes_from_sigv4_and_its_absence_is_a_403() {
        let mut headers = HeaderMap::new();
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261207/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00";
        headers.insert("authorization", auth.parse().unwrap());
        assert_eq!(Bedrock.presented_key(&headers), "AKIDTEST");
        assert_eq!(Bedrock.unauthorized("").status, 403);
    }
}
