//! The key an interposer presents to a real provider in place of the target's (`key_env:` on a
//! `url` upstream): every credential header the target sent is removed, and the family's own
//! header (`Authorization: Bearer` for OpenAI, `x-api-key` for Anthropic, `api-key` for Azure,
//! `x-goog-api-key` for Gemini) carries the key. (A Gemini key the target sends as `?key=` in
//! the query stays there: only headers are swapped.) The
//! value is marked sensitive and never printed: `Debug` shows only that a key is there.

use http::{header, HeaderMap, HeaderName, HeaderValue};

use crate::wire::ApiFamily;

/// The headers a target may carry a provider key in, all removed before the swap.
const CREDENTIAL_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static(crate::wire::azure::KEY_HEADER),
    HeaderName::from_static(crate::wire::gemini::KEY_HEADER),
];

/// A provider key to present upstream, in the header its family reads.
#[derive(Clone)]
pub struct UpstreamKey {
    name: HeaderName,
    value: HeaderValue,
}

impl std::fmt::Debug for UpstreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UpstreamKey({}: <redacted>)", self.name)
    }
}

impl UpstreamKey {
    /// `key` in `family`'s header, or why it cannot be sent in one (never quoting it).
    pub fn new(family: ApiFamily, key: &str) -> Result<UpstreamKey, &'static str> {
        let key = key.trim();
        if key.is_empty() {
            return Err("it is empty");
        }
        let (name, text) = match family {
            ApiFamily::OpenAi => (header::AUTHORIZATION, format!("Bearer {key}")),
            ApiFamily::Anthropic => (HeaderName::from_static("x-api-key"), key.to_owned()),
            // A Bedrock API key; a SigV4 signature would have to be made per request.
            ApiFamily::Bedrock => (header::AUTHORIZATION, format!("Bearer {key}")),
            ApiFamily::Azure => (HeaderName::from_static(crate::wire::azure::KEY_HEADER), key.to_owned()),
            ApiFamily::Gemini => (HeaderName::from_static(crate::wire::gemini::KEY_HEADER), key.to_owned()),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| "it holds characters a header cannot")?;
        value.set_sensitive(true);
        Ok(UpstreamKey { name, value })
    }

    /// Replaces whatever credential `headers` carry with this key.
    pub fn present(&self, headers: &mut HeaderMap) {
        for name in &CREDENTIAL_HEADERS {
            headers.remove(name);
        }
        headers.insert(self.name.clone(), self.value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer sk-target".parse().unwrap());
        headers.insert("x-api-key", "sk-target".parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        headers
    }

    #[test]
    fn the_family_s_header_carries_the_key_and_the_target_s_are_gone() {
        let mut openai = target_headers();
        UpstreamKey::new(ApiFamily::OpenAi, "sk-real").unwrap().present(&mut openai);
        assert_eq!(openai[header::AUTHORIZATION], "Bearer sk-real");
        assert!(!openai.contains_key("x-api-key"));
        assert_eq!(openai.len(), 2, "{openai:?}");

        let mut anthropic = target_headers();
        UpstreamKey::new(ApiFamily::Anthropic, " sk-ant-real\n").unwrap().present(&mut anthropic);
        assert_eq!(anthropic["x-api-key"], "sk-ant-real");
        assert!(!anthropic.contains_key(header::AUTHORIZATION));
        assert!(anthropic["x-api-key"].is_sensitive());
    }

    #[test]
    fn the_key_is_never_printed() {
        let key = UpstreamKey::new(ApiFamily::OpenAi, "sk-very-secret").unwrap();
        let printed = format!("{key:?}");
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        assert_eq!(UpstreamKey::new(ApiFamily::OpenAi, "  ").unwrap_err(), "it is empty");
        let error = UpstreamKey::new(ApiFamily::OpenAi, "sk-\u{1}bad").unwrap_err();
        assert!(!error.contains("sk-"), "{error}");
    }
}
