//! The body of a Bedrock Converse request (`api: bedrock`), as boto3's `converse` and
//! `converse_stream` send it: `messages` (one user turn of one text block) and
//! `inferenceConfig.maxTokens` when the request sets a limit. The model and the stream flag are
//! in the path ([`super::body::model_path`]); Converse's body has no field for the correlation
//! tag, which the `x-chaos-request-id` header carries.

use bytes::Bytes;

/// The body asking for `prompt`, with `max_tokens` as its output limit.
pub fn body(prompt: &str, max_tokens: Option<u32>) -> Bytes {
    let turn = b"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":";
    super::body::one_text_turn(turn, b"\"inferenceConfig\":{\"maxTokens\":", prompt, max_tokens)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn the_body_is_boto3_s_converse_shape() {
        let written: Value = serde_json::from_slice(&body("say \"hi\"", Some(20))).unwrap();
        assert_eq!(
            written,
            json!({
                "messages": [{ "role": "user", "content": [{ "text": "say \"hi\"" }] }],
                "inferenceConfig": { "maxTokens": 20 },
            })
        );
        let unlimited: Value = serde_json::from_slice(&body("x", None)).unwrap();
        assert!(unlimited.get("inferenceConfig").is_none());
    }
}
