//! A request kind's endpoint as written: `endpoint: chat` (the default) or `endpoint:
//! embeddings`, whose size is `inputs` texts of `input_tokens` tokens each rather than a
//! `prompt_tokens` prompt. `input_tokens` is not `prompt_tokens` because it counts differently:
//! an input is bare text (one token per 4 characters, as the API's `input` field), where a
//! prompt carries a chat message's framing; and `inputs` is the API's own word for what is
//! embedded. Keys that mean nothing to an endpoint are refused at their place, so a
//! `max_tokens` on an embeddings request is an error rather than silently unsent.

use serde_saphyr::Spanned;

use super::{
    build::{choose, Checked},
    error::Located,
    raw::RawRequest,
    request_mix::{RequestEndpoint, TokenCount},
};
use crate::wire::ApiFamily;

/// The most inputs one embeddings request may carry (OpenAI's limit).
const MOST_INPUTS: u32 = 2048;
/// The most tokens one input may have (the embeddings models' context).
const MOST_INPUT_TOKENS: u64 = 8192;
/// Tokens of each input when `input_tokens` is not given.
const DEFAULT_INPUT_TOKENS: u32 = 100;

/// The endpoint of `request` (sent in `api`) and, for embeddings, each input's tokens.
pub fn endpoint_of(request: &RawRequest, api: ApiFamily) -> Checked<(RequestEndpoint, Option<TokenCount>)> {
    let endpoints = [("chat", false), ("embeddings", true)];
    let endpoint = match &request.endpoint {
        Some(endpoint) if choose("endpoint", endpoint, &endpoints)? => endpoint,
        _ => {
            let why = "sizes an `endpoint: embeddings` request";
            let stray =
                [unused(&request.inputs, "inputs", why), unused(&request.input_tokens, "input_tokens", why)];
            return match stray.into_iter().flatten().next() {
                Some(error) => Err(error),
                None => Ok((RequestEndpoint::Chat, None)),
            };
        }
    };
    if !api.speaks_openai() {
        let at = request.api.as_ref().map_or(&endpoint.referenced, |api| &api.referenced);
        return Err(Located::at(at, "`endpoint: embeddings` is OpenAI's: use `api: openai` or `api: azure`"));
    }
    let why = "is not a key of an embeddings request (sized by `inputs` and `input_tokens`)";
    let stray = [
        unused(&request.stream, "stream", why),
        unused(&request.prompt_tokens, "prompt_tokens", why),
        unused(&request.max_tokens, "max_tokens", why),
    ];
    if let Some(error) = stray.into_iter().flatten().next() {
        return Err(error);
    }
    let inputs = match &request.inputs {
        Some(n) if n.value == 0 || n.value > MOST_INPUTS => {
            return Err(Located::at(&n.referenced, format!("`inputs` must be 1 to {MOST_INPUTS}")))
        }
        Some(n) => n.value,
        None => 1,
    };
    let input_tokens = request
        .input_tokens
        .as_ref()
        .map(|count| super::load::token_count(count, "input_tokens", MOST_INPUT_TOKENS))
        .transpose()?
        .unwrap_or(TokenCount::Fixed(DEFAULT_INPUT_TOKENS));
    let empty = matches!(input_tokens, TokenCount::Fixed(0) | TokenCount::Uniform { min: 0, .. });
    if let (true, Some(written)) = (empty, &request.input_tokens) {
        return Err(Located::at(
            &written.referenced,
            "`input_tokens` must be at least 1: OpenAI refuses an empty input",
        ));
    }
    Ok((RequestEndpoint::Embeddings { inputs }, Some(input_tokens)))
}

/// The error for a key, written, that the request's endpoint does not use.
fn unused<T>(key: &Option<Spanned<T>>, name: &str, why: &str) -> Option<Located> {
    key.as_ref().map(|key| Located::at(&key.referenced, format!("`{name}` {why}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with(request: &str) -> Result<crate::Plan, String> {
        let yaml = format!(
            "name: a\nupstreams: {{ openai: {{ mock: openai }} }}\n\
             load: {{ arrival: {{ rate: 1/s }}, request: {request} }}\n\
             phases: [{{ name: p, duration: 1s }}]\n"
        );
        crate::parse(&yaml, std::path::Path::new("test.yaml")).map_err(|error| error.to_string())
    }

    #[test]
    fn an_embeddings_kind_carries_its_inputs_and_each_inputs_tokens() {
        let plan = plan_with(
            "{ api: openai, endpoint: embeddings, model: text-embedding-3-small, inputs: 16, input_tokens: 200 }",
        )
        .expect("a plan");
        let kind = &plan.load.mix.kinds()[0];
        assert_eq!(kind.endpoint, RequestEndpoint::Embeddings { inputs: 16 });
        assert_eq!(kind.prompt_tokens, TokenCount::Fixed(200));
        let defaults = plan_with("{ endpoint: embeddings, model: m }").expect("a plan");
        let kind = &defaults.load.mix.kinds()[0];
        assert_eq!(
            (kind.endpoint, kind.prompt_tokens),
            (RequestEndpoint::Embeddings { inputs: 1 }, TokenCount::Fixed(100))
        );
        let chat = plan_with("{ model: m }").expect("a plan");
        assert_eq!(chat.load.mix.kinds()[0].endpoint, RequestEndpoint::Chat);
    }

    #[test]
    fn keys_that_do_not_fit_the_endpoint_are_refused_at_their_place() {
        let cases = [
            (
                "{ endpoint: embeddings, model: m, max_tokens: 5 }",
                "test.yaml:3:",
                "`max_tokens` is not a key of an embeddings request",
            ),
            ("{ endpoint: embeddings, model: m, stream: true }", "test.yaml:3:", "`stream` is not a key"),
            (
                "{ endpoint: embeddings, model: m, prompt_tokens: 5 }",
                "test.yaml:3:",
                "`prompt_tokens` is not a key",
            ),
            ("{ model: m, inputs: 4 }", "test.yaml:3:", "`inputs` sizes an `endpoint: embeddings` request"),
            ("{ api: anthropic, endpoint: embeddings, model: m }", "test.yaml:3:", "is OpenAI's"),
            ("{ endpoint: embeddings, model: m, inputs: 0 }", "test.yaml:3:", "`inputs` must be 1 to 2048"),
            (
                "{ endpoint: embeddings, model: m, inputs: 2049 }",
                "test.yaml:3:",
                "`inputs` must be 1 to 2048",
            ),
            (
                "{ endpoint: embeddings, model: m, input_tokens: 8193 }",
                "test.yaml:3:",
                "the most allowed is 8192",
            ),
            ("{ endpoint: embeddings, model: m, input_tokens: 0 }", "test.yaml:3:", "at least 1"),
            ("{ endpoint: embedding, model: m }", "test.yaml:3:", "embeddings"),
        ];
        for (request, place, message) in cases {
            let error = plan_with(request).expect_err(request);
            assert!(error.contains(place) && error.contains(message), "{request}: {error}");
        }
    }
}
