//! A load request shaped the way a gateway is called: its own `headers:` and a `body:` (inline,
//! a YAML mapping or a JSON string, or `body_file:`) with `{{placeholders}}`, read by the one
//! template reader ([`Template`]) and checked before anything runs.
//!
//! Placeholders: `{{request_id}}` (the logical request's correlation id, also sent as
//! `x-chaos-request-id`), `{{key}}` (the target key this request presents), `{{model}}` (as the
//! request names it: an alias stays an alias), `{{max_tokens}}`, `{{env.NAME}}` (read once,
//! when the scenario is checked; a variable that is not set is an error there),
//! `{{upstreams.NAME.url}}`, `{{upstreams.NAME.key}}` and `{{upstreams.NAME.keys.I}}` (an
//! upstream's interposer and its mock's keys, filled once the interposers listen:
//! [`RequestShape::filled`]; a gateway configured per request, as Portkey is, is told where its
//! upstreams are this way), and in a body `{{prompt}}`.
//!
//! JSON escaping: in a body, every value is written as the inside of a JSON string (`"` as
//! `\"`, a newline as `\n`, …), so `"content": "{{prompt}}"` is valid JSON for any prompt;
//! numbers (`{{max_tokens}}`, `{{request_id}}`) have nothing to escape and may stand outside
//! quotes, as in `"max_tokens": {{max_tokens}}`. In a YAML mapping body, a value that is
//! exactly `"{{max_tokens}}"` is written as the number. Each body is rendered once at check
//! time with a prompt full of quotes, backslashes and newlines, and must parse as JSON.

use std::{path::Path, sync::Arc};

use serde_saphyr::{Location, Spanned};

use super::{
    build::Checked,
    error::Located,
    key_pool::SecretKey,
    template::{Part, Template, Values},
};

/// A value only known per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    RequestId,
    Key,
    Model,
    MaxTokens,
    Prompt,
}

const HEADER_SLOTS: &[(&str, Slot)] = &[
    ("request_id", Slot::RequestId),
    ("key", Slot::Key),
    ("model", Slot::Model),
    ("max_tokens", Slot::MaxTokens),
];
const BODY_SLOTS: &[(&str, Slot)] = &[
    ("request_id", Slot::RequestId),
    ("key", Slot::Key),
    ("model", Slot::Model),
    ("max_tokens", Slot::MaxTokens),
    ("prompt", Slot::Prompt),
];

/// Headers the harness writes itself on every request.
const HARNESS_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "authorization",
    "x-api-key",
    "anthropic-version",
    "x-chaos-request-id",
    "x-stainless-retry-count",
    "x-chaos-call",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// An environment variable's value, or an upstream's once filled (it may be a secret:
    /// `Debug` shows only its name).
    Env {
        name: String,
        value: SecretKey,
    },
    Slot(Slot),
    /// An upstream's URL or key (`upstreams.NAME.url`), not yet filled: written as nothing.
    Upstream(String),
}

/// A header value or body with its per-request values still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapedText {
    pieces: Vec<Piece>,
}

/// One request's values. Its `Debug` leaves the key out.
#[derive(Clone, Copy)]
pub struct RequestValues<'a> {
    pub request_id: u64,
    pub key: &'a str,
    pub model: &'a str,
    pub max_tokens: Option<u32>,
    pub prompt: &'a str,
}

impl std::fmt::Debug for RequestValues<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestValues")
            .field("request_id", &self.request_id)
            .field("key", &"<redacted>")
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl ShapedText {
    /// Appends the text with each value as it is (a header value).
    pub fn write_raw(&self, values: &RequestValues<'_>, out: &mut Vec<u8>) {
        self.write(values, out, |text, out| out.extend_from_slice(text.as_bytes()));
    }

    /// Appends the text with each value escaped as the inside of a JSON string (a body).
    pub fn write_json(&self, values: &RequestValues<'_>, out: &mut Vec<u8>) {
        self.write(values, out, |text, out| {
            let quoted = serde_json::Value::from(text).to_string();
            out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
        });
    }

    fn write(
        &self,
        values: &RequestValues<'_>,
        out: &mut Vec<u8>,
        mut value: impl FnMut(&str, &mut Vec<u8>),
    ) {
        let mut number = itoa::Buffer::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text.as_bytes()),
                Piece::Env { value: secret, .. } => value(secret.expose(), out),
                Piece::Slot(Slot::RequestId) => {
                    out.extend_from_slice(number.format(values.request_id).as_bytes())
                }
                Piece::Slot(Slot::MaxTokens) => {
                    out.extend_from_slice(number.format(values.max_tokens.unwrap_or_default()).as_bytes());
                }
                Piece::Slot(Slot::Key) => value(values.key, out),
                Piece::Slot(Slot::Model) => value(values.model, out),
                Piece::Slot(Slot::Prompt) => value(values.prompt, out),
                Piece::Upstream(_) => {}
            }
        }
    }

    fn uses(&self, slot: Slot) -> bool {
        self.pieces.contains(&Piece::Slot(slot))
    }

    fn names_upstreams(&self) -> bool {
        self.pieces.iter().any(|piece| matches!(piece, Piece::Upstream(_)))
    }

    /// The text with each `upstreams.` placeholder that `values` knows filled.
    fn filled(&self, values: &Values) -> ShapedText {
        let fill = |piece: &Piece| match piece {
            Piece::Upstream(name) => match values.get(name) {
                Some(value) => Piece::Env { name: name.clone(), value: SecretKey::new(value.to_owned()) },
                None => piece.clone(),
            },
            other => other.clone(),
        };
        ShapedText { pieces: self.pieces.iter().map(fill).collect() }
    }
}

/// A request's own headers and body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestShape {
    pub headers: Vec<(http::HeaderName, ShapedText)>,
    /// Sent instead of the family's body when given.
    pub body: Option<ShapedText>,
}

impl RequestShape {
    /// Whether a header or the body names an upstream (`{{upstreams.NAME.url}}`).
    pub fn names_upstreams(&self) -> bool {
        self.headers.iter().any(|(_, value)| value.names_upstreams())
            || self.body.as_ref().is_some_and(ShapedText::names_upstreams)
    }

    /// The shape with its upstreams' URLs and keys filled from `values`.
    pub fn filled(&self, values: &Values) -> RequestShape {
        RequestShape {
            headers: self.headers.iter().map(|(name, value)| (name.clone(), value.filled(values))).collect(),
            body: self.body.as_ref().map(|body| body.filled(values)),
        }
    }
}

/// What a request's shape is built from, as written.
pub struct RawShape<'a> {
    pub headers: &'a indexmap::IndexMap<Spanned<String>, Spanned<String>>,
    pub body: Option<&'a Spanned<serde_json::Value>>,
    pub body_file: Option<&'a Spanned<String>>,
}

/// The request facts a shape is checked with.
pub struct Checks<'a> {
    pub model: &'a str,
    /// The request's largest `max_tokens`, if it gives one.
    pub max_tokens: Option<u32>,
    pub scenario_dir: &'a Path,
    /// The scenario's upstreams' names (`upstreams.NAME.url`, …), each with an empty value.
    pub upstreams: &'a Values,
}

/// The shape, or `None` when the request has neither headers nor a body of its own.
pub fn build_shape(raw: &RawShape<'_>, checks: &Checks<'_>) -> Checked<Option<Arc<RequestShape>>> {
    if raw.headers.is_empty() && raw.body.is_none() && raw.body_file.is_none() {
        return Ok(None);
    }
    let headers =
        raw.headers.iter().map(|(name, value)| header(name, value, checks)).collect::<Checked<_>>()?;
    let body = match (raw.body, raw.body_file) {
        (Some(_), Some(file)) => {
            return Err(Located::at(&file.referenced, "give the body as `body` or `body_file`, not both"))
        }
        (Some(body), None) => Some(inline_body(body, checks)?),
        (None, Some(file)) => Some(file_body(file, checks)?),
        (None, None) => None,
    };
    Ok(Some(Arc::new(RequestShape { headers, body })))
}

fn header(
    name: &Spanned<String>,
    value: &Spanned<String>,
    checks: &Checks<'_>,
) -> Checked<(http::HeaderName, ShapedText)> {
    let header = http::HeaderName::from_bytes(name.value.trim().as_bytes())
        .map_err(|_| Located::at(&name.referenced, format!("`{}` is not a header name", name.value)))?;
    if HARNESS_HEADERS.contains(&header.as_str()) {
        return Err(Located::at(
            &name.referenced,
            format!(
                "`{header}` is written by the harness on every request; present keys with `target.keys_env` or `api_key_env`"
            ),
        ));
    }
    let shaped = shaped(&value.value, HEADER_SLOTS, checks.upstreams, &|offset, message| {
        inside(value, offset, message)
    })?;
    let mut sample = Vec::new();
    shaped.write_raw(&sample_values(checks), &mut sample);
    if http::HeaderValue::from_bytes(&sample).is_err() {
        return Err(Located::at(
            &value.referenced,
            format!("header `{header}` would not be a valid header value (a line break or control character in it, or in a value it names)"),
        ));
    }
    check_max_tokens(&shaped, checks, &value.referenced)?;
    Ok((header, shaped))
}

/// `body:` as a YAML mapping (or list), made JSON, or as a string of JSON.
fn inline_body(body: &Spanned<serde_json::Value>, checks: &Checks<'_>) -> Checked<ShapedText> {
    let at = &body.referenced;
    let (text, shift) = match &body.value {
        serde_json::Value::String(text) => (text.clone(), true),
        value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
            let json = value.to_string();
            (
                json.replace("\"{{max_tokens}}\"", "{{max_tokens}}")
                    .replace("\"{{ max_tokens }}\"", "{{max_tokens}}"),
                false,
            )
        }
        _ => return Err(Located::at(at, "`body` must be a mapping or a string of JSON")),
    };
    let shaped = shaped(&text, BODY_SLOTS, checks.upstreams, &|offset, message| {
        if shift {
            inside(&Spanned { value: text.clone(), referenced: *at, defined: *at }, offset, message)
        } else {
            Located::at(at, message)
        }
    })?;
    checked_body(shaped, checks, at, "")
}

/// An error at byte `offset` of a scalar, past its opening quote if it has one.
fn inside(scalar: &Spanned<String>, offset: usize, message: String) -> Located {
    let quoted = scalar.referenced.span().len() == scalar.value.chars().count() as u64 + 2;
    let column = scalar.value[..offset.min(scalar.value.len())].chars().count() + usize::from(quoted);
    Located::at(&scalar.referenced, message).shifted(column)
}

/// `body_file:` relative to the scenario; errors point at the file's name and give the line
/// and column inside it.
fn file_body(file: &Spanned<String>, checks: &Checks<'_>) -> Checked<ShapedText> {
    let at = &file.referenced;
    let path = checks.scenario_dir.join(&file.value);
    let text = crate::read::read_text(&path)
        .map_err(|error| Located::at(at, format!("the body file `{}` {error}", path.display())))?;
    let shown = path.display().to_string();
    let shaped = shaped(&text, BODY_SLOTS, checks.upstreams, &|offset, message| {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Located::at(at, format!("in {shown}:{line}:{column}: {message}"))
    })?;
    checked_body(shaped, checks, at, &format!("the body file `{shown}`: "))
}

/// A body that renders to valid JSON with a prompt that needs every escape.
fn checked_body(shaped: ShapedText, checks: &Checks<'_>, at: &Location, what: &str) -> Checked<ShapedText> {
    check_max_tokens(&shaped, checks, at)?;
    let mut sample = Vec::new();
    shaped.write_json(&sample_values(checks), &mut sample);
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&sample) {
        return Err(Located::at(
            at,
            format!(
                "{what}the body does not render to valid JSON ({error}); a placeholder inside a string is written escaped, and only `{{{{max_tokens}}}}` and `{{{{request_id}}}}` may stand outside quotes"
            ),
        ));
    }
    Ok(shaped)
}

fn check_max_tokens(shaped: &ShapedText, checks: &Checks<'_>, at: &Location) -> Checked<()> {
    if shaped.uses(Slot::MaxTokens) && checks.max_tokens.is_none() {
        return Err(Located::at(at, "`{{max_tokens}}` needs `max_tokens:` on the request"));
    }
    Ok(())
}

/// Values that exercise every escape: what a check renders with.
fn sample_values<'a>(checks: &Checks<'a>) -> RequestValues<'a> {
    RequestValues {
        request_id: 1,
        key: "sk-check",
        model: checks.model,
        max_tokens: checks.max_tokens,
        prompt: "a \"quoted\" line\\\nand\ta tab\u{1}",
    }
}

/// Reads `text` into pieces: placeholders known in `slots`, an upstream's that `upstreams`
/// names, or `env.NAME` read now; `error` makes the located error for a problem at a byte offset
/// of `text`, with its message.
fn shaped(
    text: &str,
    slots: &[(&str, Slot)],
    upstreams: &Values,
    error: &dyn Fn(usize, String) -> Located,
) -> Checked<ShapedText> {
    let names: Vec<&str> = slots
        .iter()
        .map(|(name, _)| *name)
        .chain(["env.NAME", "upstreams.NAME.url", "upstreams.NAME.key"])
        .collect();
    let upstream = |name: &str| name.starts_with("upstreams.") && upstreams.has(name);
    let known =
        |name: &str| slots.iter().any(|(n, _)| *n == name) || env_name(name).is_some() || upstream(name);
    let template = Template::parse(text, known, &names.join(", ")).map_err(|e| error(e.offset, e.message))?;
    let pieces = template
        .parts()
        .iter()
        .map(|part| match part {
            Part::Text(text) => Ok(Piece::Text(text.clone())),
            Part::Name { name, .. } if upstream(name) => Ok(Piece::Upstream(name.clone())),
            Part::Name { name, offset } => match env_name(name) {
                Some(variable) => std::env::var(variable)
                    .map(|value| Piece::Env { name: variable.to_owned(), value: SecretKey::new(value) })
                    .map_err(|_| error(*offset, format!("the environment variable `{variable}` is not set"))),
                None => Ok(Piece::Slot(
                    slots.iter().find(|(n, _)| n == name).map_or(Slot::RequestId, |(_, s)| *s),
                )),
            },
        })
        .collect::<Checked<_>>()?;
    Ok(ShapedText { pieces })
}

/// `NAME` of `env.NAME`, when `NAME` is a variable's name.
fn env_name(name: &str) -> Option<&str> {
    let variable = name.strip_prefix("env.")?;
    let plain = !variable.is_empty() && variable.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain.then_some(variable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_with_request(request: &str) -> Result<crate::Plan, String> {
        let yaml = format!(
            "name: s\nupstreams: {{ openai: {{ mock: openai }} }}\nload:\n  arrival: {{ rate: 1/s }}\n  request:\n{request}\nphases: [{{ name: p, duration: 1s }}]\n"
        );
        crate::parse(&yaml, Path::new("test.yaml")).map_err(|e| e.to_string())
    }

    fn shape_of(plan: &crate::Plan) -> Arc<RequestShape> {
        plan.load.mix.kinds()[0].shape.clone().expect("a shape")
    }

    fn values<'a>(prompt: &'a str) -> RequestValues<'a> {
        RequestValues { request_id: 42, key: "sk-a", model: "team-a-fast", max_tokens: Some(7), prompt }
    }

    #[test]
    fn a_mapping_body_escapes_every_value_and_keeps_max_tokens_a_number() {
        let plan = plan_with_request(
            "    model: team-a-fast\n    max_tokens: 7\n    body:\n      model: \"{{model}}\"\n      \
             input: { text: \"{{prompt}}\", limit: \"{{max_tokens}}\" }\n      trace: \"chaos-{{request_id}}\"",
        )
        .unwrap();
        let prompt = "say \"hi\"\\\nthen\tstop\u{7}";
        let mut body = Vec::new();
        shape_of(&plan).body.as_ref().unwrap().write_json(&values(prompt), &mut body);
        let sent: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(sent["input"]["text"], prompt);
        assert_eq!(sent["input"]["limit"], 7);
        assert_eq!(sent["trace"], "chaos-42");
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"model":"team-a-fast","input":{"text":"say \"hi\"\\\nthen\tstop\u0007","limit":7},"trace":"chaos-42"}"#
        );
    }

    #[test]
    fn headers_take_the_request_id_and_the_key_as_they_are() {
        let plan = plan_with_request(
            "    model: m\n    headers: { x-team: \"a-{{key}}\", x-trace: \"{{ request_id }}\" }",
        )
        .unwrap();
        let shape = shape_of(&plan);
        let rendered: Vec<(String, String)> = shape
            .headers
            .iter()
            .map(|(name, value)| {
                let mut out = Vec::new();
                value.write_raw(&values(""), &mut out);
                (name.to_string(), String::from_utf8(out).unwrap())
            })
            .collect();
        assert_eq!(rendered, [("x-team".into(), "a-sk-a".into()), ("x-trace".into(), "42".into())]);
    }

    #[test]
    fn placeholders_are_checked_where_they_are_written() {
        let unknown = plan_with_request("    model: m\n    headers: { x-team: \"a {{team}}\" }").unwrap_err();
        assert!(unknown.contains("test.yaml:7:27: unknown placeholder `{{team}}`"), "{unknown}");
        let unset = plan_with_request(
            "    model: m\n    headers: { x-team: \"{{env.CHAOS_SURELY_UNSET_VARIABLE_7F3A}}\" }",
        )
        .unwrap_err();
        assert!(
            unset.contains(
                "test.yaml:7:25: the environment variable `CHAOS_SURELY_UNSET_VARIABLE_7F3A` is not set"
            ),
            "{unset}"
        );
        let in_header = plan_with_request("    model: m\n    headers: { x-p: \"{{prompt}}\" }").unwrap_err();
        assert!(in_header.contains("unknown placeholder `{{prompt}}`"), "{in_header}");
        let no_file = plan_with_request("    model: m\n    body_file: surely-missing.json").unwrap_err();
        assert!(
            no_file.contains("test.yaml:7:16: the body file `surely-missing.json` cannot be read"),
            "{no_file}"
        );
        let harness = plan_with_request("    model: m\n    headers: { authorization: x }").unwrap_err();
        assert!(harness.contains("written by the harness"), "{harness}");
    }

    #[test]
    fn a_body_that_cannot_be_json_or_lacks_max_tokens_is_refused() {
        let bare = plan_with_request("    model: m\n    body: '{\"content\": {{prompt}}}'").unwrap_err();
        assert!(bare.contains("does not render to valid JSON"), "{bare}");
        let no_max = plan_with_request("    model: m\n    body: { n: \"{{max_tokens}}\" }").unwrap_err();
        assert!(no_max.contains("needs `max_tokens:`"), "{no_max}");
    }
}
