//! A provider dialect: how one API family names its endpoints, reads keys and requests, and
//! writes answers, errors and streams. The request flow in `serve` is the same for all.

use std::time::Duration;

use http::{HeaderMap, Method};

use super::{generation::Ask, generation::Generation, paced::EventScript};
use crate::wire::{CannedResponse, LimitHeaders};

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Generate,
    Models,
    /// `GET /v1/models/{id}`.
    Model,
    Unknown,
}

/// One API family's wire format.
pub trait Dialect: Send + Sync + 'static {
    fn route(&self, method: &Method, path: &str) -> Route;
    /// The provider's error for a request whose query it refuses (Azure's missing
    /// `api-version`), checked once the route is known; most take any query.
    fn check_query(&self, _query: Option<&str>) -> Option<CannedResponse> {
        None
    }
    /// The API key the request presents ("" when none).
    fn presented_key<'a>(&self, headers: &'a HeaderMap) -> &'a str;
    /// A key the request's query carries, read when its headers carry none (Gemini's `?key=`).
    fn query_key<'a>(&self, _query: Option<&'a str>) -> Option<&'a str> {
        None
    }
    /// The 401 for a missing (`presented` empty) or wrong key.
    fn unauthorized(&self, presented: &str) -> CannedResponse;
    /// Reads a generation request to `path`, or the 400 the provider sends for it.
    fn parse(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Result<Ask, CannedResponse>;
    fn not_found(&self, method: &Method, path: &str) -> CannedResponse;
    /// The 413 for a body over the harness's limit.
    fn too_large(&self) -> CannedResponse;
    fn models(&self, models: &[String]) -> CannedResponse;
    /// One model, or the provider's 404 when it is not `listed`.
    fn model(&self, id: &str, listed: bool) -> CannedResponse;
    /// The answer when the provider is overloaded (OpenAI 503, Anthropic 529).
    fn overloaded(&self) -> CannedResponse;
    fn with_limit_headers(&self, response: CannedResponse, state: &LimitHeaders) -> CannedResponse;
    /// The whole answer of a non-streaming request.
    fn complete(&self, generation: &Generation) -> CannedResponse;
    /// Headers of a streaming answer (status 200, empty body).
    fn stream_head(&self) -> CannedResponse;
    /// The events of a streaming answer.
    fn stream(&self, generation: Generation) -> Box<dyn EventScript>;
}

/// The value of `name` in a query string (`a=1&b=2`), as written (the values the dialects read,
/// an API version, a key, `alt=sse`, need no decoding).
pub fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name).map(|(_, value)| value))
}

impl EventScript for Box<dyn EventScript> {
    fn next_event(&mut self) -> Option<(Duration, bytes::Bytes)> {
        (**self).next_event()
    }
}
