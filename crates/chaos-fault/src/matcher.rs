//! Which requests a fault applies to: path (exact, or a prefix ending in `*`), method, model
//! and `stream` flag (read from the JSON body), headers, and API key (by its index in the
//! upstream's key list, never by value). Every condition given must hold.

use super::RequestView;

/// Conditions on a request; the default matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    pub path: Option<String>,
    pub method: Option<String>,
    pub model: Option<String>,
    pub stream: Option<bool>,
    /// Header name (lower case) and exact value.
    pub headers: Vec<(String, String)>,
    pub key: Option<usize>,
}

impl Matcher {
    pub fn matches(&self, request: &RequestView<'_>) -> bool {
        let path = match self.path.as_deref() {
            None => true,
            Some(pattern) => match pattern.strip_suffix('*') {
                Some(prefix) => request.path.starts_with(prefix),
                None => request.path == pattern,
            },
        };
        let method = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(request.method));
        let model = self.model.as_deref().is_none_or(|m| request.model == Some(m));
        let stream = self.stream.is_none_or(|s| request.stream.unwrap_or(false) == s);
        let headers = self.headers.iter().all(|(name, value)| {
            request.headers.and_then(|h| h.get(name.as_str())).and_then(|v| v.to_str().ok())
                == Some(value.as_str())
        });
        let key = self.key.is_none_or(|k| request.key == Some(k));
        path && method && model && stream && headers && key
    }

    /// Whether matching needs the request body read (model or stream flag).
    pub fn needs_body(&self) -> bool {
        self.model.is_some() || self.stream.is_some()
    }

    /// Whether matching reads request headers beyond the key.
    pub fn needs_headers(&self) -> bool {
        !self.headers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a http::HeaderMap) -> RequestView<'a> {
        RequestView {
            method: "POST",
            path: "/v1/chat/completions",
            model: Some("gpt-4o"),
            stream: Some(true),
            key: Some(2),
            tokens: None,
            headers: Some(headers),
            draw_key: None,
        }
    }

    #[test]
    fn every_condition_must_hold() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-tenant", "blue".parse().unwrap());
        let request = request(&headers);
        assert!(Matcher::default().matches(&request));
        let all = Matcher {
            path: Some("/v1/chat/*".into()),
            method: Some("post".into()),
            model: Some("gpt-4o".into()),
            stream: Some(true),
            headers: vec![("x-tenant".into(), "blue".into())],
            key: Some(2),
        };
        assert!(all.matches(&request));
        for differs in [
            Matcher { path: Some("/v1/chat".into()), ..all.clone() },
            Matcher { method: Some("GET".into()), ..all.clone() },
            Matcher { model: Some("gpt-4o-mini".into()), ..all.clone() },
            Matcher { stream: Some(false), ..all.clone() },
            Matcher { headers: vec![("x-tenant".into(), "red".into())], ..all.clone() },
            Matcher { key: Some(0), ..all.clone() },
        ] {
            assert!(!differs.matches(&request), "{differs:?}");
        }
        assert!(all.needs_body());
        assert!(!Matcher { model: None, stream: None, ..all }.needs_body());
    }
}
