//! What counts as a secret, for everything a run writes: the one rule behind the redaction of
//! the recorded command line ([`super::environment`]) and of the scenario text a run records
//! ([`redact_source`]), and behind the warning that a scenario holds a literal secret
//! ([`literal_secrets`]). A value is a secret when it looks like one whatever it is called (an
//! API key `sk-…`, `sk-ant-…`, a `Bearer …` token), or when the name it is given says so.

mod yaml;

pub use yaml::{literal_secrets, redact_source, LiteralSecret};

/// What stands in for a redacted value.
pub const REDACTED: &str = "<redacted>";

/// Words that make a name (a flag, a mapping key) a secret's name.
const SECRET_WORDS: &[&str] = &["key", "token", "secret", "password", "auth", "credential"];

/// Whether a flag's or a key's name says its value is a secret (`--api-key`, `GATEWAY_TOKEN`).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// A value that looks like a key whatever it is called: an API key (`sk-…`, which covers
/// Anthropic's `sk-ant-…`), a bearer token, a query string's `api_key=`.
pub(crate) fn looks_secret(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.starts_with("sk-") || lower.starts_with("bearer ") || lower.contains("api_key=")
}
