//! Token arithmetic shared by the mocks and the load generator: a documented estimate of prompt
//! tokens, prompts built to a token size, and generated text whose token count is known exactly.
//!
//! Estimate: one token per 4 characters of message content (rounded up), plus 4 tokens of
//! framing per message and 3 for the reply's priming, the rule of thumb OpenAI documents for
//! its chat format. The load generator builds prompts with the same rule, so a scenario's
//! `prompt_tokens: 800` comes back as about 800 `prompt_tokens` in `usage`.

use serde_json::Value;

/// Output tokens assumed when a request sets no limit: what the mocks write when their length
/// is `UpToLimit`, and what a limiter charges for such a request.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 16;

/// The most output tokens any mock writes or any scenario may ask for: the largest output
/// limit of current models (Claude 3.7 Sonnet with extended output, 128k). Larger requests get
/// the provider's 400.
pub const MAX_OUTPUT_TOKENS: u64 = 128_000;
/// The largest prompt a scenario may ask the load generator to build (2M tokens ≈ 8 MB).
pub const MAX_PROMPT_TOKENS: u64 = 2_000_000;

/// Tokens of framing per chat message.
pub const TOKENS_PER_MESSAGE: u64 = 4;
/// Tokens that prime the assistant's reply.
pub const REPLY_PRIMING_TOKENS: u64 = 3;
/// Characters per token in the estimate.
pub const CHARS_PER_TOKEN: u64 = 4;

/// Estimated prompt tokens of a `messages` array.
pub fn prompt_tokens(messages: &[Value]) -> u64 {
    prompt_tokens_of(messages.iter().map(|message| content_chars(&message["content"])))
}

/// Estimated prompt tokens of messages whose contents have these many characters each.
pub fn prompt_tokens_of(content_chars: impl Iterator<Item = u64>) -> u64 {
    let content_tokens: u64 =
        content_chars.map(|chars| chars.div_ceil(CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE).sum();
    content_tokens + REPLY_PRIMING_TOKENS
}

/// Characters a message's content counts for: a string's own, anything else (parts, or none)
/// as its compact JSON.
pub fn content_chars(content: &Value) -> u64 {
    match content {
        Value::String(text) => text.chars().count() as u64,
        other => other.to_string().chars().count() as u64,
    }
}

/// Every token after the first is one space-led word, so whitespace-split words always equal
/// the token count, however long the answer.
const WORDS: &[&str] = &[" chaos", " tests", " the", " gateway", " before", " the", " pager", " does"];

/// User-message content that the estimate counts as a `tokens`-token prompt (one message).
pub fn prompt_text(tokens: u64) -> String {
    "lore".repeat(prompt_chars(tokens) / 4)
}

/// Characters of [`prompt_text`] for a `tokens`-token prompt; a prefix of a longer prompt text
/// of this length is a prompt of that size.
pub fn prompt_chars(tokens: u64) -> usize {
    let content = tokens.saturating_sub(TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS);
    usize::try_from(content * CHARS_PER_TOKEN).unwrap_or(usize::MAX)
}

/// The word for token number `index` of a generated answer.
pub fn word(index: u64) -> &'static str {
    let word = WORDS[(index % WORDS.len() as u64) as usize];
    if index == 0 {
        word.trim_start()
    } else {
        word
    }
}

/// Text of exactly `tokens` tokens, one word per token.
pub fn generated_text(tokens: u64) -> String {
    (0..tokens).map(word).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_estimate_counts_content_and_framing() {
        let messages = [json!({"role": "user", "content": "x".repeat(800)})];
        assert_eq!(prompt_tokens(&messages), 200 + TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS);
    }

    #[test]
    fn a_built_prompt_is_estimated_at_its_size() {
        let messages = [json!({"role": "user", "content": prompt_text(800)})];
        assert_eq!(prompt_tokens(&messages), 800);
    }

    #[test]
    fn generated_text_has_one_word_per_token() {
        assert_eq!(generated_text(0), "");
        assert_eq!(generated_text(3), "chaos tests the");
        for tokens in [1, 8, 9, 17, 1000] {
            assert_eq!(generated_text(tokens).split_whitespace().count() as u64, tokens);
        }
    }
}
