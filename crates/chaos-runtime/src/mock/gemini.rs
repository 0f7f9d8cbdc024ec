//! The Gemini dialect: `POST /v1beta/models/{model}:generateContent` (one
//! `GenerateContentResponse`) and `…:streamGenerateContent` (its `data:` events, as with
//! `?alt=sse`, what google-genai asks for; no terminator: the last event carries
//! `finishReason`), the key in `x-goog-api-key` or `?key=`, `usageMetadata`, Google's errors
//! ([`crate::wire::gemini`]).
//!
//! A turn's parts' texts count as one chat message's content, so a prompt costs what the same
//! text costs the other dialects. Every event of a stream carries the usage so far (the prompt's
//! tokens), as Gemini's do; the last adds `candidatesTokenCount`. `tools` are not read: the
//! answer is text.

use std::time::Duration;

use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::{
    dialect::{Dialect, Route},
    generation::{Ask, Endpoint, Generation},
    paced::EventScript,
    template::Template,
};
use crate::wire::{gemini, request_id, sse, tokens, CannedResponse, LimitHeaders};

/// The Gemini dialect.
pub struct Gemini;

fn invalid(message: &str) -> CannedResponse {
    gemini::error(400, message)
}

/// `usageMetadata` once `output` tokens are written (none: the prompt alone, as early events).
fn usage_metadata(generation: &Generation, output: Option<u64>) -> Value {
    let prompt = generation.prompt_tokens;
    let mut usage = json!({
        "promptTokenCount": prompt,
        "totalTokenCount": prompt + output.unwrap_or(0),
        "promptTokensDetails": [{ "modality": "TEXT", "tokenCount": prompt }],
    });
    if let Some(output) = output {
        usage["candidatesTokenCount"] = output.into();
    }
    usage
}

fn finish_reason(generation: &Generation) -> &'static str {
    if generation.truncated {
        "MAX_TOKENS"
    } else {
        "STOP"
    }
}

/// One `GenerateContentResponse`: a candidate with `text`, and its finish and usage.
fn response(generation: &Generation, id: &str, text: &str, finish: Option<&str>, usage: Value) -> Value {
    let mut candidate = json!({ "content": { "parts": [{ "text": text }], "role": "model" }, "index": 0 });
    if let Some(finish) = finish {
        candidate["finishReason"] = finish.into();
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": generation.model,
        "responseId": id,
    })
}

fn response_id() -> String {
    request_id().trim_start_matches("req_")[..22].to_owned()
}

impl Dialect for Gemini {
    fn route(&self, method: &Method, path: &str) -> Route {
        match (method, gemini::generation(path)) {
            (&Method::POST, Some(_)) => Route::Generate,
            _ => Route::Unknown,
        }
    }

    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str {
        crate::wire::presented_key(headers).unwrap_or("")
    }

    fn query_key<'a>(&self, query: Option<&'a str>) -> Option<&'a str> {
        super::dialect::query_value(query, "key")
    }

    fn unauthorized(&self, presented: &str) -> CannedResponse {
        if presented.is_empty() {
            let message = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";
            gemini::error(403, message)
        } else {
            invalid("API key not valid. Please pass a valid API key.")
        }
    }

    fn parse(&self, path: &str, _headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse> {
        let Some((model, stream)) = gemini::generation(path) else {
            return Err(self.not_found(&Method::POST, path));
        };
        let request: Value = serde_json::from_slice(body)
            .map_err(|_| invalid("Invalid JSON payload received. Unexpected token."))?;
        let turns = request["contents"].as_array().filter(|turns| !turns.is_empty());
        let turns =
            turns.ok_or_else(|| invalid("* GenerateContentRequest.contents: contents is not specified\n"))?;
        let text_of = |turn: &Value| -> u64 {
            let parts = turn["parts"].as_array().map(Vec::as_slice).unwrap_or_default();
            parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .map(|text| text.chars().count() as u64)
                .sum()
        };
        // Google's JSON takes a field by its proto name too, as LiteLLM writes it.
        let config = &request["generationConfig"];
        let limit = config["maxOutputTokens"].as_u64().or_else(|| config["max_output_tokens"].as_u64());
        if let Some(limit) = limit.filter(|limit| *limit > tokens::MAX_OUTPUT_TOKENS) {
            let message = format!(
                "Unable to submit request because it has a maxOutputTokens value of {limit} but the supported range is from 1 (inclusive) to {} (exclusive). Update the value and try again.",
                tokens::MAX_OUTPUT_TOKENS + 1
            );
            return Err(invalid(&message));
        }
        Ok(Ask {
            model: model.to_owned(),
            prompt_tokens: tokens::prompt_tokens_of(turns.iter().map(text_of)),
            limit,
            stream,
            include_usage: true,
            endpoint: Endpoint::Chat,
            embeddings: None,
            tools: None,
        })
    }

    fn not_found(&self, _method: &Method, path: &str) -> CannedResponse {
        let model = path.rsplit('/').next().unwrap_or(path);
        let message = format!(
            "models/{model} is not found for API version v1beta, or is not supported for generateContent."
        );
        gemini::error(404, &message)
    }

    fn too_large(&self) -> CannedResponse {
        crate::wire::too_large(crate::wire::ApiFamily::Gemini)
    }

    fn models(&self, _models: &[String]) -> CannedResponse {
        self.not_found(&Method::GET, "models")
    }

    fn model(&self, id: &str, _listed: bool) -> CannedResponse {
        self.not_found(&Method::GET, id)
    }

    fn overloaded(&self) -> CannedResponse {
        gemini::server_error(503)
    }

    /// Google sends no rate-limit headers.
    fn with_limit_headers(&self, response: CannedResponse, _state: &LimitHeaders) -> CannedResponse {
        response
    }

    fn complete(&self, generation: &Generation) -> CannedResponse {
        let usage = usage_metadata(generation, Some(generation.output_tokens));
        let body =
            response(generation, &response_id(), &generation.text(), Some(finish_reason(generation)), usage);
        CannedResponse::json(200, &body)
    }

    fn stream_head(&self) -> CannedResponse {
        CannedResponse::new(200, sse::CONTENT_TYPE, bytes::Bytes::new())
    }

    fn stream(&self, generation: Generation) -> Box<dyn EventScript> {
        let id = response_id();
        let content = Template::new(|text| {
            sse::data(&response(&generation, &id, text, None, usage_metadata(&generation, None)))
        });
        Box::new(ResponsesScript { id, generation, content, written: 0, finished: false, at: Duration::ZERO })
    }
}

/// The events of one streamed answer: one per token, then the finish with the whole usage.
struct ResponsesScript {
    id: String,
    generation: Generation,
    /// A token's event, pre-rendered.
    content: Template,
    written: u64,
    finished: bool,
    at: Duration,
}

impl EventScript for ResponsesScript {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        if self.written < self.generation.output_tokens {
            self.at = self.generation.next_token_at();
            let event = self.content.fill(self.generation.piece(self.written));
            self.written += 1;
            return Some((self.at, event));
        }
        if self.finished {
            return None;
        }
        self.finished = true;
        let generation = &self.generation;
        let usage = usage_metadata(generation, Some(generation.output_tokens));
        let last = response(generation, &self.id, "", Some(finish_reason(generation)), usage);
        Some((self.at, sse::data(&last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_model_s_generation_methods_are_routes() {
        let model = "/v1beta/models/gemini-2.0-flash";
        for (method, method_name, route) in [
            (Method::POST, ":generateContent", Route::Generate),
            (Method::POST, ":streamGenerateContent", Route::Generate),
            (Method::POST, ":embedContent", Route::Unknown),
            (Method::GET, ":generateContent", Route::Unknown),
        ] {
            assert_eq!(
                Gemini.route(&method, &format!("{model}{method_name}")),
                route,
                "{method} {method_name}"
            );
        }
    }

    #[test]
    fn the_key_comes_from_the_header_or_the_query() {
        assert_eq!(Gemini.query_key(Some("alt=sse&key=AIza-test")), Some("AIza-test"));
        assert_eq!(Gemini.query_key(Some("alt=sse")), None);
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-api-key", "AIza-header".parse().unwrap());
        assert_eq!(Gemini.presented_key(&headers), "AIza-header");
    }

    #[test]
    fn a_request_names_its_model_and_stream_in_the_path_and_needs_contents() {
        let body = br#"{"contents":[{"role":"user","parts":[{"text":"12345678"}]}],"generationConfig":{"maxOutputTokens":7}}"#;
        let ask = Gemini
            .parse("/v1beta/models/gemini-2.5-flash:streamGenerateContent", &HeaderMap::new(), body)
            .unwrap();
        assert_eq!((ask.model.as_str(), ask.stream, ask.limit), ("gemini-2.5-flash", true, Some(7)));
        assert_eq!(ask.prompt_tokens, tokens::prompt_tokens(&[json!({ "content": "12345678" })]));
        let proto_name =
            br#"{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"max_output_tokens":9}}"#;
        let ask = Gemini.parse("/v1beta/models/m:generateContent", &HeaderMap::new(), proto_name).unwrap();
        assert_eq!(ask.limit, Some(9), "the limit by its proto name, as LiteLLM sends it");
        let empty =
            Gemini.parse("/v1beta/models/m:generateContent", &HeaderMap::new(), br#"{"contents":[]}"#);
        let body: Value = serde_json::from_slice(&empty.unwrap_err().body).unwrap();
        assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    }
}
