//! A pre-rendered stream event with one hole for a JSON string: the event is rendered once per
//! stream with a marker where the token text goes, and each token then costs one copy instead
//! of building and serializing a JSON tree. Output is byte-identical to rendering the whole
//! event (the test below holds it to that).

use bytes::{BufMut, Bytes, BytesMut};

const MARKER: &str = "\u{1}chaos-token\u{1}";

/// An event split around its token text.
#[derive(Debug, Clone)]
pub struct Template {
    prefix: Bytes,
    suffix: Bytes,
}

impl Template {
    /// Renders the event once with the marker as its text, and splits it there.
    pub fn new(render: impl Fn(&str) -> Bytes) -> Self {
        let whole = render(MARKER);
        let quoted = serde_json::to_string(MARKER).unwrap_or_default();
        let at = whole.windows(quoted.len()).position(|w| w == quoted.as_bytes()).unwrap_or(whole.len());
        let suffix_start = (at + quoted.len()).min(whole.len());
        Template { prefix: whole.slice(..at), suffix: whole.slice(suffix_start..) }
    }

    /// The event with `text` in the hole (JSON-escaped).
    pub fn fill(&self, text: &str) -> Bytes {
        let mut out = BytesMut::with_capacity(self.prefix.len() + text.len() + 2 + self.suffix.len());
        out.put_slice(&self.prefix);
        let _ = serde_json::to_writer((&mut out).writer(), text);
        out.put_slice(&self.suffix);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::wire::sse;

    #[test]
    fn filling_equals_rendering_the_whole_event() {
        let render = |text: &str| {
            sse::data(&json!({ "id": "x", "choices": [{ "delta": { "content": text } }], "usage": null }))
        };
        let template = Template::new(render);
        for text in ["chaos", " tests", "quote \" and \\ backslash", "ünïcode"] {
            assert_eq!(template.fill(text), render(text));
        }
    }
}
