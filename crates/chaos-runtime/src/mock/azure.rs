//! The Azure OpenAI dialect: `POST /openai/deployments/{deployment}/chat/completions` and
//! `…/embeddings`, each with `?api-version=…` (without one, Azure's 404), the key in `api-key`
//! (or `Authorization: Bearer`, as an Entra ID token comes). The bodies are OpenAI's
//! ([`super::openai`], [`super::openai_embeddings`]) with Azure's content-filter results:
//! `prompt_filter_results` and each choice's `content_filter_results` in an answer; in a stream,
//! a first chunk with no choices carrying `prompt_filter_results`, then OpenAI's chunks with
//! each choice's results. Azure's platform errors (401, 404, 429, 503) are its own shape
//! ([`crate::wire::azure`]).
//!
//! The deployment is the model: it is what the mock counts, limits and answers as `model` (a
//! real deployment answers with the model it runs, such as `gpt-4o-2024-08-06`), and a body's own
//! `model` is ignored, as Azure ignores it.

use std::time::Duration;

use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::{
    dialect::{Dialect, Route},
    generation::{Ask, Endpoint, Generation},
    openai::{self, Flavor},
    openai_embeddings,
    paced::EventScript,
};
use crate::wire::{azure, sse, CannedResponse, LimitHeaders};

/// The Azure OpenAI dialect.
pub struct Azure;

/// The deployment a path names, and whether it asks for embeddings; `None` for any other path.
fn operation(path: &str) -> Option<(&str, bool)> {
    let deployment = azure::deployment(path)?;
    match &path[azure::DEPLOYMENTS.len() + deployment.len() + 1..] {
        "chat/completions" => Some((deployment, false)),
        "embeddings" => Some((deployment, true)),
        _ => None,
    }
}

/// Azure's additions to a Chat Completions answer.
const CONTENT_FILTERED: Flavor = Flavor {
    choice: |choice| choice["content_filter_results"] = azure::content_filter_results(),
    answer: |answer| answer["prompt_filter_results"] = azure::prompt_filter_results(),
    preamble: Some(|| {
        json!({
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": azure::prompt_filter_results(),
        })
    }),
};

/// Whether `version` looks like one of Azure's (`2024-10-21`, `2025-01-01-preview`).
fn is_api_version(version: &str) -> bool {
    let date = version.strip_suffix("-preview").unwrap_or(version);
    date.len() == 10
        && date
            .bytes()
            .enumerate()
            .all(|(at, byte)| if at == 4 || at == 7 { byte == b'-' } else { byte.is_ascii_digit() })
}

impl Dialect for Azure {
    fn route(&self, method: &Method, path: &str) -> Route {
        match (method, operation(path)) {
            (&Method::POST, Some(_)) => Route::Generate,
            _ => Route::Unknown,
        }
    }

    fn check_query(&self, query: Option<&str>) -> Option<CannedResponse> {
        let version = super::dialect::query_value(query, "api-version");
        match version {
            None => Some(azure::error(404, "404", "Resource not found")),
            Some(version) if !is_api_version(version) => {
                Some(azure::error(400, "BadRequest", "API version not supported"))
            }
            Some(_) => None,
        }
    }

    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str {
        crate::wire::presented_key(headers).unwrap_or("")
    }

    fn unauthorized(&self, _presented: &str) -> CannedResponse {
        azure::error(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        )
    }

    fn parse(&self, path: &str, _headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse> {
        let Some((deployment, embeddings)) = operation(path) else {
            return Err(self.not_found(&Method::POST, path));
        };
        let mut request: Value = serde_json::from_slice(body)
            .map_err(|_| azure::error(400, "BadRequest", "Failed to parse the request body as JSON."))?;
        if !request.is_object() {
            return Err(azure::error(400, "BadRequest", "The request body must be a JSON object."));
        }
        request["model"] = Value::from(deployment);
        let parsed =
            if embeddings { openai_embeddings::parse(&request) } else { openai::parse_chat(&request) };
        parsed.map_err(azure::from_openai)
    }

    fn not_found(&self, _method: &Method, _path: &str) -> CannedResponse {
        azure::error(404, "404", "Resource not found")
    }

    fn too_large(&self) -> CannedResponse {
        crate::wire::too_large(crate::wire::ApiFamily::Azure)
    }

    fn models(&self, _models: &[String]) -> CannedResponse {
        self.not_found(&Method::GET, "")
    }

    fn model(&self, _id: &str, _listed: bool) -> CannedResponse {
        self.not_found(&Method::GET, "")
    }

    fn overloaded(&self) -> CannedResponse {
        azure::server_error(503)
    }

    fn with_limit_headers(&self, response: CannedResponse, state: &LimitHeaders) -> CannedResponse {
        azure::limit_headers(response, state)
    }

    fn complete(&self, generation: &Generation) -> CannedResponse {
        let answer = match generation.endpoint {
            Endpoint::Embeddings => {
                CannedResponse::new(200, "application/json", openai_embeddings::complete(generation))
            }
            Endpoint::Chat | Endpoint::Responses => {
                CannedResponse::json(200, &openai::chat_answer(generation, &CONTENT_FILTERED))
            }
        };
        success_headers(answer, generation.nominal_time())
    }

    fn stream_head(&self) -> CannedResponse {
        success_headers(CannedResponse::new(200, sse::CONTENT_TYPE, bytes::Bytes::new()), Duration::ZERO)
    }

    fn stream(&self, generation: Generation) -> Box<dyn EventScript> {
        openai::chat_stream(generation, CONTENT_FILTERED)
    }
}

/// The headers Azure puts on a successful answer.
fn success_headers(response: CannedResponse, processing: Duration) -> CannedResponse {
    azure::with_azure_headers(response)
        .with_header("openai-processing-ms", processing.as_millis().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_deployment_s_chat_and_embeddings_are_routes() {
        let post = Method::POST;
        assert_eq!(Azure.route(&post, "/openai/deployments/gpt-4o/chat/completions"), Route::Generate);
        assert_eq!(Azure.route(&post, "/openai/deployments/emb/embeddings"), Route::Generate);
        for path in [
            "/openai/deployments//chat/completions",
            "/openai/deployments/x/completions",
            "/v1/chat/completions",
        ] {
            assert_eq!(Azure.route(&post, path), Route::Unknown, "{path}");
        }
        assert_eq!(Azure.route(&Method::GET, "/openai/deployments/gpt-4o/chat/completions"), Route::Unknown);
    }

    #[test]
    fn the_api_version_is_required_and_must_look_like_one() {
        assert_eq!(Azure.check_query(None).map(|r| r.status), Some(404));
        assert_eq!(Azure.check_query(Some("foo=1")).map(|r| r.status), Some(404));
        assert_eq!(Azure.check_query(Some("api-version=latest")).map(|r| r.status), Some(400));
        assert!(Azure.check_query(Some("api-version=2024-10-21")).is_none());
        assert!(Azure.check_query(Some("x=1&api-version=2025-01-01-preview")).is_none());
    }

    #[test]
    fn the_deployment_is_the_model_whatever_the_body_says() {
        let body = br#"{"model":"ignored","messages":[{"role":"user","content":"hi"}]}"#;
        let ask =
            Azure.parse("/openai/deployments/prod-4o/chat/completions", &HeaderMap::new(), body).unwrap();
        assert_eq!(ask.model, "prod-4o");
        let no_model = br#"{"messages":[{"role":"user","content":"hi"}]}"#;
        assert!(Azure
            .parse("/openai/deployments/prod-4o/chat/completions", &HeaderMap::new(), no_model)
            .is_ok());
        let bad = Azure
            .parse("/openai/deployments/prod-4o/chat/completions", &HeaderMap::new(), b"[1]")
            .unwrap_err();
        assert_eq!(bad.status, 400);
    }
}
