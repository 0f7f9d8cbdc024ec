//! The mix of requests a load sends: one or more request kinds with weights, each with a model,
//! a streaming flag, and prompt and output sizes that are fixed or drawn from a range. Each
//! logical request's kind and sizes are drawn from its id and the run's seed, so a run repeats.

use std::sync::Arc;

use rand::{rngs::SmallRng, Rng, SeedableRng};

use super::{agent::AgentLoop, request_shape::RequestShape};
use crate::wire::ApiFamily;

/// A token count: fixed, or uniform over an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCount {
    Fixed(u32),
    Uniform { min: u32, max: u32 },
}

impl TokenCount {
    /// The largest count it can give.
    pub fn most(self) -> u32 {
        match self {
            TokenCount::Fixed(n) => n,
            TokenCount::Uniform { max, .. } => max,
        }
    }

    fn draw(self, rng: &mut SmallRng) -> u32 {
        match self {
            TokenCount::Fixed(n) => n,
            TokenCount::Uniform { min, max } => rng.random_range(min..=max),
        }
    }
}

/// Which endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestEndpoint {
    /// Chat completions (OpenAI) or messages (Anthropic): a prompt, an answer.
    #[default]
    Chat,
    /// OpenAI's embeddings: `inputs` texts of `prompt_tokens` tokens each, no output.
    Embeddings { inputs: u32 },
}

impl RequestEndpoint {
    /// The chat prompt whose text is long enough for `tokens` of this endpoint: an embeddings
    /// input is text alone, without a chat message's framing tokens.
    pub fn prompt_tokens_for(self, tokens: u32) -> u32 {
        match self {
            RequestEndpoint::Chat => tokens,
            RequestEndpoint::Embeddings { .. } => {
                let framing =
                    crate::wire::tokens::TOKENS_PER_MESSAGE + crate::wire::tokens::REPLY_PRIMING_TOKENS;
                tokens.saturating_add(framing as u32)
            }
        }
    }
}

/// One kind of request in the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestKind {
    /// Relative share of the traffic (> 0).
    pub weight: f64,
    pub api: ApiFamily,
    /// The model the request names (a gateway's alias stays an alias).
    pub model: Arc<str>,
    /// The model the upstream bills: `model` through the target's `aliases`.
    pub billed_model: Arc<str>,
    pub stream: bool,
    pub endpoint: RequestEndpoint,
    /// The prompt's tokens; of an embeddings request, each input's.
    pub prompt_tokens: TokenCount,
    pub max_tokens: Option<TokenCount>,
    /// Its own headers and body, when the scenario gives them.
    pub shape: Option<Arc<RequestShape>>,
    /// The agent loop, when the request is an agent's task (`tools`, `agent_steps`).
    pub agent: Option<AgentLoop>,
}

/// The weighted kinds of request a load sends.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMix {
    kinds: Vec<RequestKind>,
    total_weight: f64,
}

impl RequestMix {
    /// A mix of `kinds` (at least one, weights > 0; the plan checks both).
    pub fn new(kinds: Vec<RequestKind>) -> Self {
        let total_weight = kinds.iter().map(|k| k.weight).sum();
        RequestMix { kinds, total_weight }
    }

    pub fn kinds(&self) -> &[RequestKind] {
        &self.kinds
    }

    /// The largest prompt any request may ask for, in tokens.
    pub fn largest_prompt(&self) -> u32 {
        self.kinds.iter().map(|k| k.endpoint.prompt_tokens_for(k.prompt_tokens.most())).max().unwrap_or(0)
    }

    /// Logical request `id`'s kind (by index) and concrete request.
    pub fn pick(&self, seed: u64, id: u64) -> (usize, RequestSpec) {
        let mut rng = SmallRng::seed_from_u64(seed ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut point = rng.random::<f64>() * self.total_weight;
        let index = self
            .kinds
            .iter()
            .position(|kind| {
                point -= kind.weight;
                point < 0.0
            })
            .unwrap_or(self.kinds.len() - 1);
        let kind = &self.kinds[index];
        let spec = RequestSpec {
            api: kind.api,
            model: Arc::clone(&kind.model),
            stream: kind.stream,
            endpoint: kind.endpoint,
            prompt_tokens: kind.prompt_tokens.draw(&mut rng),
            max_tokens: kind.max_tokens.map(|m| m.draw(&mut rng)),
            shape: kind.shape.clone(),
            agent: kind.agent,
        };
        (index, spec)
    }
}

/// What one logical request asks for, whatever the family it is sent in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The format it is sent in when the target takes any (a gateway's URL); the built-in
    /// client sends each attempt in its upstream's format instead.
    pub api: ApiFamily,
    pub model: Arc<str>,
    pub stream: bool,
    pub endpoint: RequestEndpoint,
    /// The prompt's tokens; of an embeddings request, each input's.
    pub prompt_tokens: u32,
    /// `max_tokens` / `max_completion_tokens`; Anthropic requires one, so it gets a default.
    pub max_tokens: Option<u32>,
    /// Its own headers and body, when the scenario gives them.
    pub shape: Option<Arc<RequestShape>>,
    /// The agent loop, when the request is an agent's task.
    pub agent: Option<AgentLoop>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(weight: f64, model: &str, prompt_tokens: TokenCount) -> RequestKind {
        RequestKind {
            weight,
            api: ApiFamily::OpenAi,
            model: Arc::from(model),
            billed_model: Arc::from(model),
            stream: false,
            endpoint: RequestEndpoint::Chat,
            prompt_tokens,
            max_tokens: None,
            shape: None,
            agent: None,
        }
    }

    #[test]
    fn weights_share_the_traffic_and_draws_repeat() {
        let mix = RequestMix::new(vec![
            kind(3.0, "big", TokenCount::Uniform { min: 1000, max: 2000 }),
            kind(1.0, "small", TokenCount::Fixed(10)),
        ]);
        let picks: Vec<(usize, RequestSpec)> = (0..4000).map(|id| mix.pick(9, id)).collect();
        let big = picks.iter().filter(|(kind, _)| *kind == 0).count();
        assert!((2850..3150).contains(&big), "{big} of 4000 should be about 3000");
        assert!(picks.iter().all(|(kind, spec)| *kind == 1 || (1000..=2000).contains(&spec.prompt_tokens)));
        assert_eq!(mix.pick(9, 17), picks[17], "the same seed and id give the same request");
        assert_eq!(mix.largest_prompt(), 2000);
    }
}
