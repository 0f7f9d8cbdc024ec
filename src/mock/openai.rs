//! The OpenAI-compatible mock: `POST /v1/chat/completions` (non-streaming, with `usage`),
//! `GET /v1/models`, and the provider's own 400/401/404 bodies for bad requests.

use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{body::Incoming, header, Method, Request, Response};
use serde_json::{json, Value};

use super::{MockConfig, SeenRequest};
use crate::wire::{openai, request_id, tokens, CannedResponse};

/// Tokens generated when the request sets no limit.
const DEFAULT_OUTPUT_TOKENS: u64 = 16;

/// Shared state of one running mock.
#[derive(Debug)]
pub struct MockState {
    config: MockConfig,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
}

impl MockState {
    pub fn new(config: MockConfig, seen: Arc<Mutex<Vec<SeenRequest>>>) -> Self {
        MockState { config, seen }
    }
}

/// Answers one request.
pub async fn handle(state: Arc<MockState>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = std::time::Instant::now();
    let (parts, body) = request.into_parts();
    let body = match crate::net::read_body(body).await {
        Ok(body) => body,
        Err(_) => {
            return openai::error(413, "Request body too large.", "invalid_request_error", None, None)
                .into_response()
        }
    };
    if state.config.record_requests {
        let seen = SeenRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            body: body.clone(),
        };
        state.seen.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
    }
    let response = match (&parts.method, parts.uri.path()) {
        (&Method::POST, "/v1/chat/completions") => {
            authorized(&state.config, &parts.headers).and_then(|()| chat_completion(&body))
        }
        (&Method::GET, "/v1/models") => {
            authorized(&state.config, &parts.headers).map(|()| models(&state.config))
        }
        (method, path) => Err(openai::error(
            404,
            &format!("Invalid URL ({method} {path})"),
            "invalid_request_error",
            None,
            None,
        )),
    };
    let response = response.unwrap_or_else(|error| error);
    let response = response
        .with_header("openai-version", "2020-10-01")
        .with_header("openai-processing-ms", started.elapsed().as_millis().to_string());
    response.into_response()
}

/// Checks `Authorization: Bearer <key>` against the configured keys.
fn authorized(config: &MockConfig, headers: &http::HeaderMap) -> Result<(), CannedResponse> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let known = if config.keys.is_empty() { !key.is_empty() } else { config.keys.iter().any(|k| k == key) };
    if known {
        return Ok(());
    }
    let message = if key.is_empty() {
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    } else {
        "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
    };
    let code = (!key.is_empty()).then_some("invalid_api_key");
    Err(openai::error(401, message, "invalid_request_error", None, code))
}

fn bad_request(message: &str, param: Option<&str>, code: Option<&str>) -> CannedResponse {
    openai::error(400, message, "invalid_request_error", param, code)
}

fn chat_completion(body: &[u8]) -> Result<CannedResponse, CannedResponse> {
    let request: Value = serde_json::from_slice(body).map_err(|_| {
        bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
            None,
        )
    })?;
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
    if request["stream"].as_bool() == Some(true) {
        return Err(bad_request(
            "This chaos mock does not stream yet; send `stream: false`.",
            Some("stream"),
            None,
        ));
    }
    let limit = request["max_completion_tokens"].as_u64().or_else(|| request["max_tokens"].as_u64());
    let completion_tokens = limit.unwrap_or(DEFAULT_OUTPUT_TOKENS);
    let prompt_tokens = tokens::prompt_tokens(messages);
    let finish_reason = if limit.is_some() { "length" } else { "stop" };
    let body = json!({
        "id": format!("chatcmpl-{:024x}", rand::random::<u128>() >> 32),
        "object": "chat.completion",
        "created": unix_seconds(),
        "model": model,
        "system_fingerprint": "fp_chaos",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": tokens::generated_text(completion_tokens), "refusal": null },
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": { "cached_tokens": 0 },
            "completion_tokens_details": { "reasoning_tokens": 0 },
        },
    });
    Ok(CannedResponse::json(200, &body).with_header("x-request-id", request_id()))
}

fn models(config: &MockConfig) -> CannedResponse {
    let created = unix_seconds();
    let data: Vec<Value> = config
        .models
        .iter()
        .map(|id| json!({ "id": id, "object": "model", "created": created, "owned_by": "chaos" }))
        .collect();
    CannedResponse::json(200, &json!({ "object": "list", "data": data }))
        .with_header("x-request-id", request_id())
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(response: &CannedResponse) -> Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn usage_is_consistent_with_the_reply() {
        let request = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x".repeat(400)}], "max_tokens": 5});
        let response = chat_completion(request.to_string().as_bytes()).unwrap();
        let body = body_of(&response);
        assert_eq!(body["usage"]["completion_tokens"], 5);
        assert_eq!(body["usage"]["prompt_tokens"], 100 + 4 + 3);
        assert_eq!(body["usage"]["total_tokens"], 112);
        assert_eq!(
            body["choices"][0]["message"]["content"].as_str().unwrap().split_inclusive(' ').count(),
            5
        );
    }

    #[test]
    fn bad_requests_get_openai_400_bodies() {
        let missing_model = chat_completion(br#"{"messages": []}"#).unwrap_err();
        assert_eq!(missing_model.status, 400);
        assert_eq!(body_of(&missing_model)["error"]["type"], "invalid_request_error");
        let malformed = chat_completion(b"{not json").unwrap_err();
        assert!(body_of(&malformed)["error"]["message"].as_str().unwrap().contains("parse the JSON"));
        let missing_messages = chat_completion(br#"{"model": "m"}"#).unwrap_err();
        assert_eq!(body_of(&missing_messages)["error"]["param"], "messages");
    }

    #[test]
    fn unknown_keys_get_401_and_the_key_is_not_echoed() {
        let config = MockConfig {
            family: crate::wire::ApiFamily::OpenAi,
            keys: vec!["sk-good".into()],
            models: vec![],
            record_requests: false,
        };
        let mut headers = http::HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer sk-secret-wrong".parse().unwrap());
        let denied = authorized(&config, &headers).unwrap_err();
        assert_eq!(denied.status, 401);
        assert_eq!(body_of(&denied)["error"]["code"], "invalid_api_key");
        assert!(!String::from_utf8_lossy(&denied.body).contains("sk-secret-wrong"));
        headers.insert(header::AUTHORIZATION, "Bearer sk-good".parse().unwrap());
        assert!(authorized(&config, &headers).is_ok());
    }
}
