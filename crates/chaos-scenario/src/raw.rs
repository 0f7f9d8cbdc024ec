//! The scenario exactly as the user wrote it: serde structs that reject unknown keys and keep
//! the source location of every value a later check may need to point at.
//!
//! Nothing here is trusted yet; `build` turns it into a checked [`super::Plan`]. The same
//! types, with their doc comments, are the scenario's JSON Schema for editors (`schema.rs`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::units::{Dollars, HumanDuration, Percent, Price, Rate};

/// How the schema (`chaos schema scenario`, see `schema.rs`) describes a mapping keyed by
/// names: `IndexMap` and `Spanned` have no `JsonSchema` of their own, so each such field, and
/// each `Spanned<T>` field, names what it reads as (`#[schemars(with = "…")]`).
type Map<V> = std::collections::BTreeMap<String, V>;

/// A whole scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[schemars(with = "Map<RawUpstream>")]
    pub upstreams: Spanned<IndexMap<Spanned<String>, RawUpstream>>,
    #[serde(default)]
    #[schemars(with = "Option<RawTarget>")]
    pub target: Option<Spanned<RawTarget>>,
    #[schemars(with = "RawLoad")]
    pub load: Spanned<RawLoad>,
    #[schemars(with = "Vec<RawPhase>")]
    pub phases: Spanned<Vec<Spanned<RawPhase>>>,
    #[serde(default)]
    pub slo: Option<RawSlo>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub expect: Vec<Spanned<String>>,
    /// Halt conditions: `metric op value`, watched live.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub halt: Vec<Spanned<String>>,
    /// Stop the run once an expectation on a phase has failed.
    #[serde(default)]
    pub abort_on_fail: bool,
    #[serde(default)]
    #[schemars(with = "Map<RawPrice>")]
    pub prices: IndexMap<String, RawPrice>,
    /// The spend guard: the run halts (exit 4) once the metered cost of every upstream's
    /// answers, priced from `prices:` and the default table, reaches this many US dollars.
    #[serde(default)]
    #[schemars(with = "Option<Dollars>")]
    pub max_spend: Option<Spanned<Dollars>>,
}

/// One provider endpoint the target talks to: a built-in mock (`mock:`) or a real provider at
/// a base URL (`url:`), exactly one of the two.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// A built-in mock of this family: `openai`, `anthropic`, `azure` or `gemini`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mock: Option<Spanned<String>>,
    /// A real provider's base URL, like `https://api.openai.com` (`http://` only on loopback).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    /// With `url`: the API family it speaks, `openai`, `anthropic`, `azure` or `gemini` (known
    /// for api.openai.com, api.anthropic.com, *.openai.azure.com and
    /// generativelanguage.googleapis.com).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub family: Option<Spanned<String>>,
    /// With `url`: the environment variable whose value replaces the target's key on the way
    /// to the provider (`Authorization: Bearer` for OpenAI, `x-api-key` for Anthropic, `api-key`
    /// for Azure, `x-goog-api-key` for Gemini).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub key_env: Option<Spanned<String>>,
    /// With `url`: allow a host beyond loopback (as `--allow-remote` does for the whole run).
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub allow_remote: Option<Spanned<bool>>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub keys: Option<Spanned<u32>>,
    #[serde(default)]
    #[schemars(with = "Option<RawMockLatency>")]
    pub latency: Option<Spanned<RawMockLatency>>,
    #[serde(default)]
    #[schemars(with = "Option<RawTokenCount>")]
    pub output_tokens: Option<Spanned<RawTokenCount>>,
    #[serde(default)]
    #[schemars(with = "Option<crate::fault::RawRateLimit>")]
    pub rate_limit: Option<Spanned<crate::fault::RawRateLimit>>,
    /// Share of requests answered "overloaded" (OpenAI 503, Anthropic 529).
    #[serde(default)]
    #[schemars(with = "Option<Percent>")]
    pub overloaded: Option<Spanned<Percent>>,
    /// Where the upstream's interposer listens, so a gateway can be pointed at it before the
    /// run: `127.0.0.1:9101` (default `127.0.0.1:0`, any free port).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub listen: Option<Spanned<String>>,
}

/// How fast a mock answers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMockLatency {
    #[serde(default)]
    pub ttft: Option<HumanDuration>,
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub tokens_per_second: Option<Spanned<f64>>,
    #[serde(default)]
    pub jitter: Option<Percent>,
}

/// A token count: fixed, or uniform over a range.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawTokenCount {
    Fixed(u32),
    Range { min: u32, max: u32 },
}

/// How the system under test is provided: exactly one of `builtin`, `url` or `command`, with
/// the options that go with it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub builtin: Option<RawBuiltin>,
    /// An already-running gateway's base URL.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    /// A command line the harness starts (with `{{…}}` placeholders) and stops.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub command: Option<Spanned<String>>,
    /// With `command`: environment for the target, values templated.
    #[serde(default)]
    #[schemars(with = "Map<String>")]
    pub env: IndexMap<Spanned<String>, Spanned<String>>,
    /// With `command`: files rendered into the run folder (`{{dir}}`): name → template path.
    #[serde(default)]
    #[schemars(with = "Map<String>")]
    pub files: IndexMap<Spanned<String>, Spanned<String>>,
    /// With `command`: the base URL the load goes to (default `http://127.0.0.1:{{port}}`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub base_url: Option<Spanned<String>>,
    /// With `command`: a URL polled until it answers 2xx before the load starts.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub health: Option<Spanned<String>>,
    #[serde(default)]
    pub startup_timeout: Option<HumanDuration>,
    /// With `url` or `command`: the environment variable holding the key the load presents.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api_key_env: Option<Spanned<String>>,
    /// With `url` or `command`: a pool of keys, one environment variable each, presented in
    /// turn (request `id` uses key `id % n`); figures are reported per key.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub keys_env: Option<Spanned<Vec<Spanned<String>>>>,
    /// With `url` or `command`: a pool of keys from a file (one a line, relative to the
    /// scenario; blank lines and `#` lines skipped), presented in turn.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub keys_file: Option<Spanned<String>>,
    /// With `url` or `command`: model names the gateway exposes, each to the model the upstream
    /// bills: `{ team-a-fast: gpt-4o-mini }`. Requests carry the alias; prices, fault matches
    /// and the mocks use the model.
    #[serde(default)]
    #[schemars(with = "Map<String>")]
    pub aliases: IndexMap<Spanned<String>, Spanned<String>>,
    /// With `url` or `command`: how long one request may take.
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// Allow a target beyond loopback.
    #[serde(default)]
    pub allow_remote: Option<bool>,
}

/// The built-in client emulation: SDK-style retries, optional fallbacks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBuiltin {
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub retries: Option<Spanned<u32>>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub backoff: Option<Spanned<String>>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub upstream: Option<Spanned<String>>,
    /// Upstreams tried in order after the primary's retries are spent; `anthropic/claude-3-5-haiku`
    /// asks that upstream for that model instead of the request's (what it answers and bills).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub fallbacks: Vec<Spanned<String>>,
    /// `one` (the first key of each upstream) or `pool` (all its keys in turn).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub keys: Option<Spanned<String>>,
}

/// The traffic the load generator sends: one `request`, or a weighted `mix`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    #[schemars(with = "RawArrival")]
    pub arrival: Spanned<RawArrival>,
    /// Requests that all start at one instant: `[{ at: 9m, requests: 40 }]`.
    #[serde(default)]
    #[schemars(with = "Vec<RawBurst>")]
    pub bursts: Vec<Spanned<RawBurst>>,
    #[serde(default)]
    #[schemars(with = "Option<RawRequest>")]
    pub request: Option<Spanned<RawRequest>>,
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawRequest>>")]
    pub mix: Option<Spanned<Vec<Spanned<RawRequest>>>>,
    #[serde(default)]
    pub drain: Option<HumanDuration>,
    /// Starts that find this many requests unfinished are skipped (and make the run invalid).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub max_in_flight: Option<Spanned<u64>>,
    /// At most this many requests on the wire at once (a client's connection pool).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    pub connections: Option<Spanned<u64>>,
    /// How late the generator's p99 start may be before the run is invalid.
    #[serde(default)]
    pub max_lag: Option<HumanDuration>,
}

/// When logical requests start: an open model (`rate`, `process`) or a closed one (`users`,
/// `think`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArrival {
    #[serde(default)]
    pub rate: Option<Rate>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub process: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub users: Option<Spanned<u32>>,
    #[serde(default)]
    pub think: Option<HumanDuration>,
}

/// A phase's own open-model rate: `{ rate: 50/s }` or `{ ramp: [1/s, 50/s] }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhaseArrival {
    #[serde(default)]
    pub rate: Option<Rate>,
    #[serde(default)]
    pub ramp: Option<[Rate; 2]>,
}

/// `{ at: 9m, requests: 40 }`: requests meant to start together, at an offset from the start.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBurst {
    pub at: HumanDuration,
    pub requests: u32,
}

/// What a logical request looks like (in a `mix`, with its `weight`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub api: Option<Spanned<String>>,
    pub model: String,
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub stream: Option<Spanned<bool>>,
    #[serde(default)]
    #[schemars(with = "Option<RawTokenCount>")]
    pub prompt_tokens: Option<Spanned<RawTokenCount>>,
    #[serde(default)]
    #[schemars(with = "Option<RawTokenCount>")]
    pub max_tokens: Option<Spanned<RawTokenCount>>,
    #[serde(default)]
    #[schemars(with = "Option<f64>")]
    pub weight: Option<Spanned<f64>>,
    /// `chat` (the default: chat completions or messages) or `embeddings` (OpenAI's
    /// `/v1/embeddings`, with `inputs` and `input_tokens` in place of `prompt_tokens`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// Embeddings: how many inputs one request embeds (1 to 2048; default 1).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub inputs: Option<Spanned<u32>>,
    /// Embeddings: the tokens of each input (at most 8192), fixed or `{ min, max }`.
    #[serde(default)]
    #[schemars(with = "Option<RawTokenCount>")]
    pub input_tokens: Option<Spanned<RawTokenCount>>,
    /// Headers sent on every attempt, values templated: `{{request_id}}`, `{{key}}`,
    /// `{{model}}`, `{{max_tokens}}`, `{{env.NAME}}`, and an upstream's `{{upstreams.NAME.url}}`,
    /// `{{upstreams.NAME.key}}`, `{{upstreams.NAME.keys.I}}` (filled once the interposers listen).
    #[serde(default)]
    #[schemars(with = "Map<String>")]
    pub headers: IndexMap<Spanned<String>, Spanned<String>>,
    /// The body sent instead of the API's own: a mapping, or a string of JSON, with the
    /// headers' placeholders and `{{prompt}}` (each value JSON-escaped).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub body: Option<Spanned<serde_json::Value>>,
    /// The body from a JSON file, relative to the scenario.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub body_file: Option<Spanned<String>>,
    /// Function tools offered on every call (1 to 16): the request is an agent's task.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub tools: Option<Spanned<u32>>,
    /// Model calls per task (1 to 16, default 1; needs `tools`): model → tool result → model.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub agent_steps: Option<Spanned<u32>>,
}

/// A named time window and the faults that hold during it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub name: String,
    #[serde(default)]
    pub duration: Option<HumanDuration>,
    /// A wall-clock time to start at: `"09:00"` (UTC), `"09:00+02:00"`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub at: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Map<Vec<crate::fault::RawFault>>")]
    pub faults: IndexMap<Spanned<String>, Vec<Spanned<crate::fault::RawFault>>>,
    #[serde(default)]
    pub zone_loss: Option<RawZoneLoss>,
    /// The phase's own rate (open model), instead of `load.arrival.rate`.
    #[serde(default)]
    #[schemars(with = "Option<RawPhaseArrival>")]
    pub arrival: Option<Spanned<RawPhaseArrival>>,
}

/// `zone_loss: { zone: a, mode: reset | blackhole }`: every upstream in the zone goes dark.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawZoneLoss {
    #[schemars(with = "String")]
    pub zone: Spanned<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub mode: Option<Spanned<String>>,
}

/// The service level the target promises.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    #[schemars(with = "Percent")]
    pub availability: Spanned<Percent>,
    #[serde(default)]
    pub period: Option<HumanDuration>,
}

/// Prices for one model.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: Price,
    pub output: Price,
}
