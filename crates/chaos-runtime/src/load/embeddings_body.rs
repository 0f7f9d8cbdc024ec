//! The body of an embeddings request (`endpoint: embeddings` in the mix), as openai-python
//! sends `client.embeddings.create`: `model`, `input` (a list of `inputs` texts, each a prefix
//! of the prompt text `prompt_tokens` tokens long), the correlation tag in `user`, and
//! `encoding_format: base64`, which the SDK asks for whenever its caller names no format.

use bytes::Bytes;

use super::body::{json_string, RequestSpec};
use crate::wire::tokens::CHARS_PER_TOKEN;

/// OpenAI's embeddings path.
pub const PATH: &str = "/v1/embeddings";

/// The body of logical request `id`; `prompt` is the longest prompt text the load uses.
pub fn body(spec: &RequestSpec, inputs: u32, prompt: &str, id: u64) -> Bytes {
    let chars = (u64::from(spec.prompt_tokens) * CHARS_PER_TOKEN) as usize;
    let text = &prompt[..chars.min(prompt.len())];
    let mut written = Vec::with_capacity((text.len() + 3) * inputs as usize + spec.model.len() + 96);
    written.extend_from_slice(b"{\"model\":");
    json_string(&mut written, &spec.model);
    written.extend_from_slice(b",\"input\":[");
    for index in 0..inputs {
        if index > 0 {
            written.push(b',');
        }
        json_string(&mut written, text);
    }
    written.extend_from_slice(b"],\"user\":\"chaos-");
    written.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    written.extend_from_slice(b"\",\"encoding_format\":\"base64\"}");
    Bytes::from(written)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::*;
    use crate::scenario::request_mix::{RequestEndpoint, RequestMix};

    #[test]
    fn inputs_of_the_asked_size_with_the_tag_and_base64_as_the_sdk_sends() {
        let spec = RequestSpec {
            api: crate::wire::ApiFamily::OpenAi,
            model: Arc::from("text-embedding-3-small"),
            stream: false,
            endpoint: RequestEndpoint::Embeddings { inputs: 3 },
            prompt_tokens: 50,
            max_tokens: None,
            shape: None,
            agent: None,
        };
        let largest = RequestMix::new(Vec::new()).largest_prompt().max(spec.endpoint.prompt_tokens_for(50));
        let prompt = crate::wire::tokens::prompt_text(u64::from(largest));
        let body: Value = serde_json::from_slice(&body(&spec, 3, &prompt, 42)).expect("JSON");
        let inputs = body["input"].as_array().expect("a list");
        assert_eq!(inputs.len(), 3);
        assert!(
            inputs.iter().all(|input| input.as_str().map(str::len) == Some(200)),
            "50 tokens of 4 characters"
        );
        assert_eq!(
            (body["user"].as_str(), body["encoding_format"].as_str()),
            (Some("chaos-42"), Some("base64"))
        );
    }
}
