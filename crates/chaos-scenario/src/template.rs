//! `{{name}}` placeholders: one syntax, one reader ([`Template::parse`]), for every text the
//! harness fills in.
//!
//! A command target's command line, environment and files are filled with what only exists
//! once the run starts ([`Values`]): `port`, `dir`, `key` (a random key made for this run, which
//! the load presents to the target: a gateway's master key), `upstreams.<name>.url`,
//! `upstreams.<name>.key` (its first key) and `upstreams.<name>.keys.<i>` (each of a mock's
//! `keys: N`, from 0, for a gateway pooling them). A load request's headers and body are filled per request
//! (`request_shape`), where the `upstreams.` names are filled once the interposers listen
//! (`upstream_fill`). Spaces inside the braces are allowed; an unknown name or an unclosed `{{`
//! is an error at its offset.

use std::collections::BTreeMap;

/// A placeholder that cannot be filled, at a byte offset in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// The values placeholders may name.
#[derive(Debug, Clone, Default)]
pub struct Values {
    values: BTreeMap<String, String>,
}

impl Values {
    /// The names a scenario with these upstreams may use, each with an empty value: enough to
    /// check templates before anything runs.
    /// `upstreams` are each upstream's name and how many keys it has.
    pub fn names_for(upstreams: &[(String, usize)]) -> Self {
        let mut values = Values::default();
        values.set("port", "");
        values.set("dir", "");
        values.set("key", "");
        for (name, keys) in upstreams {
            values.set_upstream(name, "", &vec![String::new(); (*keys).max(1)]);
        }
        values
    }

    /// Whether `name` is one of these values' names.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The value of `name`, when it is one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// An upstream's URL and keys (`key` is the first).
    pub fn set_upstream(&mut self, upstream: &str, url: &str, keys: &[String]) {
        self.set(&format!("upstreams.{upstream}.url"), url);
        self.set(&format!("upstreams.{upstream}.key"), keys.first().map_or("", String::as_str));
        for (index, key) in keys.iter().enumerate() {
            self.set(&format!("upstreams.{upstream}.keys.{index}"), key.as_str());
        }
    }

    /// Fills every placeholder in `template`.
    pub fn render(&self, template: &str) -> Result<String, TemplateError> {
        let known: Vec<&str> = self.values.keys().map(String::as_str).collect();
        let parsed = Template::parse(template, |name| self.values.contains_key(name), &known.join(", "))?;
        Ok(parsed.fill(|name, out| out.push_str(&self.values[name])))
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied as it is.
    Text(String),
    /// A placeholder's name, trimmed, and the byte offset of its `{{` in the template.
    Name { name: String, offset: usize },
}

/// A template read once: its text and placeholders in order, every name known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Reads `template`; a name `known` refuses, or an unclosed `{{`, is an error at its offset
    /// (the error lists `names`, the names that would have been known).
    pub fn parse(template: &str, known: impl Fn(&str) -> bool, names: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let offset = template.len() - rest.len() + open;
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError { offset, message: "`{{` is never closed by `}}`".to_owned() });
            };
            let name = after[..close].trim();
            if !known(name) {
                return Err(TemplateError {
                    offset,
                    message: format!("unknown placeholder `{{{{{name}}}}}`; known: {names}"),
                });
            }
            parts.push(Part::Name { name: name.to_owned(), offset });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The template with `value` writing each placeholder's value.
    pub fn fill(&self, mut value: impl FnMut(&str, &mut String)) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Name { name, .. } => value(name, &mut out),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_names_and_points_at_unknown_ones() {
        let mut values = Values::names_for(&[("openai".to_owned(), 2)]);
        values.set("port", "4000");
        values.set_upstream("openai", "http://127.0.0.1:9", &["sk-1".to_owned(), "sk-2".to_owned()]);
        assert_eq!(
            values
                .render("{{upstreams.openai.key}} {{upstreams.openai.keys.0}} {{upstreams.openai.keys.1}}")
                .unwrap(),
            "sk-1 sk-1 sk-2"
        );
        assert!(values.render("{{upstreams.openai.keys.2}}").is_err(), "a key the upstream does not have");
        assert_eq!(
            values.render("gw --port {{port}} --base {{ upstreams.openai.url }}/v1").unwrap(),
            "gw --port 4000 --base http://127.0.0.1:9/v1"
        );
        let error = values.render("gw {{upstreams.anthropic.url}}").unwrap_err();
        assert_eq!(error.offset, 3);
        assert!(
            error.message.contains("unknown placeholder `{{upstreams.anthropic.url}}`"),
            "{}",
            error.message
        );
        assert_eq!(values.render("x {{port").unwrap_err().offset, 2);
    }
}
