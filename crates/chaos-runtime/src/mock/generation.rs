//! What one mock response will say and when: a parsed request (`Ask`) plus the mock's
//! latency model become a `Generation` that the dialects render as a JSON body or a stream.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rand::rngs::StdRng;

use super::{
    latency::{draw_output, TokenClock},
    openai_embeddings::EmbeddingsAsk,
    tool_call::{ToolAsk, ToolCall},
};
use crate::{
    scenario::mock_answer::{LatencyModel, OutputLength},
    wire::tokens,
};

/// Which of a family's generation endpoints a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endpoint {
    /// Chat Completions (OpenAI) or Messages (Anthropic).
    #[default]
    Chat,
    /// OpenAI's Responses API.
    Responses,
    /// OpenAI's embeddings ([`super::openai_embeddings`]): no output tokens, no stream.
    Embeddings,
}

/// The parts of a request every dialect understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub model: String,
    pub prompt_tokens: u64,
    /// `max_tokens` / `max_completion_tokens`, if the request set one.
    pub limit: Option<u64>,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    pub endpoint: Endpoint,
    /// What an embeddings request asked for (`Endpoint::Embeddings` only).
    pub embeddings: Option<Arc<EmbeddingsAsk>>,
    /// The request's tools and tool choice, when it offered tools.
    pub tools: Option<ToolAsk>,
}

/// One response, decided before the first byte is written.
#[derive(Debug)]
pub struct Generation {
    pub model: String,
    pub created: u64,
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    /// True when the request's limit cut the answer short.
    pub truncated: bool,
    pub include_usage: bool,
    pub endpoint: Endpoint,
    pub embeddings: Option<Arc<EmbeddingsAsk>>,
    /// The tool this answer calls instead of answering in text; its argument fragments are the
    /// output tokens.
    pub tool_call: Option<ToolCall>,
    fragments: Vec<String>,
    pub clock: TokenClock,
    pub latency: LatencyModel,
    pub rng: StdRng,
}

impl Generation {
    pub fn new(ask: Ask, latency: LatencyModel, length: OutputLength, mut rng: StdRng) -> Self {
        let (mut output_tokens, mut truncated) = draw_output(length, ask.limit, &mut rng);
        let tool_call = ask.tools.as_ref().and_then(ToolAsk::pick).map(|tool| ToolCall::new(tool, &mut rng));
        let fragments = tool_call.as_ref().map(ToolCall::fragments).unwrap_or_default();
        if tool_call.is_some() {
            (output_tokens, truncated) = (fragments.len() as u64, false);
        }
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Generation {
            model: ask.model,
            created,
            prompt_tokens: ask.prompt_tokens,
            output_tokens,
            truncated,
            include_usage: ask.include_usage,
            endpoint: ask.endpoint,
            embeddings: ask.embeddings,
            tool_call,
            fragments,
            clock: TokenClock::new(latency),
            latency,
            rng,
        }
    }

    /// The text of token `index` (one word per token, so counts always agree with `usage`).
    pub fn token_text(index: u64) -> &'static str {
        tokens::word(index)
    }

    /// The text of output token `index`: a word of the answer, or a fragment of the tool
    /// call's arguments.
    pub fn piece(&self, index: u64) -> &str {
        match self.tool_call {
            Some(_) => self.fragments.get(index as usize).map_or("", String::as_str),
            None => Self::token_text(index),
        }
    }

    /// Why the answer stopped, as Anthropic's Messages and Bedrock's Converse both spell it:
    /// a tool call, the output limit, or the end of the turn.
    pub fn stop_reason(&self) -> &'static str {
        if self.tool_call.is_some() {
            "tool_use"
        } else if self.truncated {
            "max_tokens"
        } else {
            "end_turn"
        }
    }

    /// The whole answer.
    pub fn text(&self) -> String {
        tokens::generated_text(self.output_tokens)
    }

    /// How long a non-streaming answer takes: until its last token would have been written.
    pub fn total_time(&mut self) -> Duration {
        TokenClock::total(self.latency, self.output_tokens, &mut self.rng)
    }

    /// How long the whole answer takes without jitter: TTFT plus one gap per further token.
    pub fn nominal_time(&self) -> Duration {
        let rate = self.latency.tokens_per_second;
        let gaps = self.output_tokens.saturating_sub(1) as f64;
        let generation = if rate.is_finite() && rate > 0.0 { gaps / rate } else { 0.0 };
        self.latency.ttft + Duration::try_from_secs_f64(generation).unwrap_or_default()
    }

    /// The offset at which the next token is due.
    pub fn next_token_at(&mut self) -> Duration {
        self.clock.next_token(&mut self.rng)
    }
}
