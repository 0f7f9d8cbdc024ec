//! Secrets written literally in a scenario's YAML: found where they were written (for the
//! warning at `chaos validate` and `chaos run`), and replaced by [`REDACTED`] in the scenario
//! text a run records. The text is read as a tree that knows where each scalar was written, and
//! only a secret's own characters are replaced: every line stays where it was (a multi-line
//! secret keeps its line breaks), and the text still parses to the same plan, the redacted
//! value being a plain string.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::{is_secret_name, looks_secret, REDACTED};

/// A secret written in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralSecret {
    /// Where it was written, 1-based.
    pub line: u64,
    /// Its first character's column, 1-based.
    pub column: u64,
    /// The mapping key it is the value of, when it has one.
    pub name: Option<String>,
    /// Its bytes in the text, where the parser gave them.
    bytes: Option<std::ops::Range<usize>>,
}

/// The secrets written literally in `source`, in the order they appear; none when the text is
/// not YAML (its error is reported elsewhere).
pub fn literal_secrets(source: &str) -> Vec<LiteralSecret> {
    let Ok(root) = serde_saphyr::from_str::<Spanned<Node>>(source) else { return Vec::new() };
    let mut found = Vec::new();
    collect(&root, None, &mut found);
    for secret in &mut found {
        secret.bytes = secret.bytes.take().filter(|bytes| source.get(bytes.clone()).is_some());
    }
    found.sort_by_key(|secret| (secret.line, secret.column));
    found.dedup_by_key(|secret| (secret.line, secret.column));
    found
}

/// `source` with every literal secret replaced by [`REDACTED`]; text that is not YAML, or
/// with a secret the parser could not say the bytes of, is replaced whole rather than kept.
pub fn redact_source(source: &str) -> String {
    if serde_saphyr::from_str::<Spanned<Node>>(source).is_err() {
        return REDACTED.to_owned();
    }
    let secrets = literal_secrets(source);
    let Some(spans) = secrets.iter().map(|secret| secret.bytes.clone()).collect::<Option<Vec<_>>>() else {
        return REDACTED.to_owned();
    };
    let mut redacted = source.to_owned();
    for bytes in spans.into_iter().rev() {
        let line_breaks = source[bytes.clone()].matches('\n').count();
        redacted.replace_range(bytes, &format!("{REDACTED}{}", "\n".repeat(line_breaks)));
    }
    redacted
}

/// A YAML node, as much of it as telling a secret needs.
enum Node {
    /// A string, quoted or plain.
    Text(String),
    /// A number, a boolean, null: never a secret.
    Other,
    Mapping(Vec<(Spanned<Node>, Spanned<Node>)>),
    Sequence(Vec<Spanned<Node>>),
}

/// Adds the secrets in `node` to `found`; `name` is the key `node` is the value of (a sequence
/// passes it on to its items).
fn collect(node: &Spanned<Node>, name: Option<&str>, found: &mut Vec<LiteralSecret>) {
    match &node.value {
        Node::Text(text) if is_literal_secret(text, name) => {
            let (line, column, bytes) = (node.defined.line(), node.defined.column(), bytes_of(node.defined));
            found.push(LiteralSecret { line, column, name: name.map(str::to_owned), bytes });
        }
        Node::Text(_) | Node::Other => {}
        Node::Sequence(items) => items.iter().for_each(|item| collect(item, name, found)),
        Node::Mapping(entries) => {
            for (key, value) in entries {
                let key_name = match &key.value {
                    Node::Text(text) => Some(text.as_str()),
                    _ => None,
                };
                collect(value, key_name, found);
            }
        }
    }
}

/// The scenario format's own keys whose names hold a secret word but whose values never are a
/// secret: `keys: pool` (the built-in client's key use), token counts.
const FORMAT_KEYS: &[&str] = &["keys", "prompt_tokens", "max_tokens", "output_tokens", "tokens_per_second"];

/// Whether `text`, the value of the key `name`, is a secret written out: it looks like a key,
/// or its key's name says it is one (unless that key names where a secret is kept, `*_env`,
/// `*_file`). What `{{…}}` templates fill in at run time is not written out.
fn is_literal_secret(text: &str, name: Option<&str>) -> bool {
    let written = without_templates(text);
    let written = written.trim();
    if written.is_empty() || written == REDACTED {
        return false;
    }
    let names_a_secret = name.is_some_and(|name| {
        let lower = name.to_ascii_lowercase();
        is_secret_name(&lower)
            && !lower.ends_with("_env")
            && !lower.ends_with("_file")
            && !FORMAT_KEYS.contains(&lower.as_str())
    });
    names_a_secret || looks_secret(written)
}

/// `text` with every `{{…}}` template left out.
fn without_templates(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        kept.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => rest = &rest[open + close + 2..],
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// The bytes a scalar was written in, where the parser knows them.
fn bytes_of(location: Location) -> Option<std::ops::Range<usize>> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    (len > 0).then_some(start..start + len)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Node, E> {
        Ok(Node::Text(text.to_owned()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_i128<E>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_u128<E>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_bytes<E>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"name: secrets
upstreams:
  openai: { mock: openai, key_env: OPENAI_API_KEY }
target:
  command: 'gateway --port {{port}}'
  env: { OPENAI_API_KEY: sk-live-abcdef123456, GATEWAY_MODE: fast }
  api_key_env: GATEWAY_KEY
load:
  request:
    model: gpt-4o-mini
    max_tokens: 5
    headers:
      authorization: "Bearer eyJhbGciOi.secret"
      x-portkey-config: "{{env.PORTKEY_CONFIG}}"
      x-trace: "Bearer {{env.TRACE}}"
gateway_token: 'tok_9f8e7d6c'
anthropic: { key: sk-ant-api03-zzz }
note: |
  sk-multi-line-secret
  second line
after: kept
"#;

    #[test]
    fn literal_secrets_are_found_where_they_were_written() {
        let found: Vec<(u64, u64, Option<String>)> =
            literal_secrets(SCENARIO).into_iter().map(|s| (s.line, s.column, s.name)).collect();
        let named = |line, column, name: &str| (line, column, Some(name.to_owned()));
        assert_eq!(
            found,
            vec![
                named(6, 26, "OPENAI_API_KEY"),
                named(13, 22, "authorization"),
                named(16, 16, "gateway_token"),
                named(17, 19, "key"),
                named(19, 3, "note"),
            ]
        );
    }

    #[test]
    fn redaction_replaces_only_the_secrets_and_keeps_every_line_in_place() {
        let redacted = redact_source(SCENARIO);
        for secret in ["sk-live-abcdef123456", "eyJhbGciOi", "tok_9f8e7d6c", "sk-ant-api03", "sk-multi-line"]
        {
            assert!(!redacted.contains(secret), "{secret} left in:\n{redacted}");
        }
        for kept in [
            "GATEWAY_MODE: fast",
            "key_env: OPENAI_API_KEY",
            "api_key_env: GATEWAY_KEY",
            "max_tokens: 5",
            "x-portkey-config: \"{{env.PORTKEY_CONFIG}}\"",
            "x-trace: \"Bearer {{env.TRACE}}\"",
            "after: kept",
        ] {
            assert!(redacted.contains(kept), "{kept} lost in:\n{redacted}");
        }
        assert_eq!(redacted.lines().count(), SCENARIO.lines().count());
        let line = |text: &str, n: usize| text.lines().nth(n - 1).map(str::to_owned);
        assert_eq!(line(&redacted, 21), line(SCENARIO, 21), "the lines after a multi-line secret stay put");
        assert_eq!(
            line(&redacted, 6).as_deref(),
            Some("  env: { OPENAI_API_KEY: <redacted>, GATEWAY_MODE: fast }")
        );
    }

    #[test]
    fn the_redacted_text_parses_and_holds_no_secret() {
        let redacted = redact_source(SCENARIO);
        assert!(literal_secrets(&redacted).is_empty(), "{redacted}");
        let value: serde_json::Value = serde_saphyr::from_str(&redacted).expect("still YAML");
        assert_eq!(value["target"]["env"]["OPENAI_API_KEY"], REDACTED);
        assert_eq!(value["target"]["env"]["GATEWAY_MODE"], "fast");
        assert_eq!(value["load"]["request"]["headers"]["authorization"], REDACTED);
        assert_eq!(value["load"]["request"]["max_tokens"], 5);
        assert_eq!(value["gateway_token"], REDACTED);
        assert_eq!(redact_source(&redacted), redacted, "redacting twice changes nothing");
    }

    #[test]
    fn a_scenario_without_secrets_is_kept_byte_for_byte() {
        let plain = "name: plain\nkeys: 3\nkeys_env: [A_KEY, B_KEY]\nrequest: { prompt_tokens: 50 }\n\
                     target: { builtin: { keys: pool } }\n";
        assert_eq!(redact_source(plain), plain);
        assert_eq!(redact_source("a: [unclosed"), REDACTED, "text that is not YAML is not kept");
    }
}
