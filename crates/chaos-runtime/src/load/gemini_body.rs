//! The body of a Gemini request (`api: gemini`), as google-genai sends `generate_content`:
//! `contents` (one user turn of one text part) and `generationConfig.maxOutputTokens` when the
//! request sets a limit. The model and the stream flag are in the path ([`super::body::model_path`]);
//! Gemini's body has no field for the correlation tag, which the `x-chaos-request-id` header
//! carries.

use bytes::Bytes;

/// The body asking for `prompt`, with `max_tokens` as its output limit.
pub fn body(prompt: &str, max_tokens: Option<u32>) -> Bytes {
    let turn = b"{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":";
    super::body::one_text_turn(turn, b"\"generationConfig\":{\"maxOutputTokens\":", prompt, max_tokens)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn the_body_is_google_genai_s_shape() {
        let written: Value = serde_json::from_slice(&body("say \"hi\"", Some(20))).unwrap();
        assert_eq!(
            written,
            json!({
                "contents": [{ "role": "user", "parts": [{ "text": "say \"hi\"" }] }],
                "generationConfig": { "maxOutputTokens": 20 },
            })
        );
        let unlimited: Value = serde_json::from_slice(&body("x", None)).unwrap();
        assert!(unlimited.get("generationConfig").is_none());
    }
}
