//! A `url:` upstream: a real provider behind the interposer instead of a mock. Its base URL is an
//! origin (`https://` anywhere, `http://` only on loopback; no path, since each request keeps
//! its own), its API family is known (written as `family:`, or inferred from the two providers'
//! own hosts), no mock-only option is given, and a host beyond loopback needs `allow_remote`.
//!
//! Why `family:` rather than guessing from the paths the requests use: faults are built when the
//! scenario is checked (a 429's body, a stream's terminator are the family's), before any
//! request; and a gateway may send both dialects' paths to one provider.

use serde_saphyr::{Location, Spanned};

use super::{build::Checked, error::Located, plan::RemoteUpstream, raw::RawUpstream};
use crate::{located::choose, loopback::is_loopback_host, wire::ApiFamily};

/// The providers whose family needs no `family:`: a host, or (with a leading dot) the domain of
/// every resource's host (`<resource>.openai.azure.com`).
const KNOWN_HOSTS: &[(&str, ApiFamily)] = &[
    ("api.openai.com", ApiFamily::OpenAi),
    ("api.anthropic.com", ApiFamily::Anthropic),
    (".openai.azure.com", ApiFamily::Azure),
    ("generativelanguage.googleapis.com", ApiFamily::Gemini),
];

/// Whether `host` is `known`, or under it when `known` is a domain.
fn is_known(host: &str, known: &str) -> bool {
    host == known || (known.starts_with('.') && host.ends_with(known))
}

/// The family and the provider of a `url:` upstream.
pub(super) fn remote_upstream(
    url: &Spanned<String>,
    raw: &RawUpstream,
) -> Checked<(ApiFamily, RemoteUpstream)> {
    if let Some(at) = mock_only(raw) {
        return Err(Located::at(
            at,
            "`keys`, `latency`, `output_tokens`, `rate_limit` and `overloaded` shape a mock's answers; \
             a `url` upstream answers for itself",
        ));
    }
    let text = url.value.trim();
    let uri = origin(url)?;
    let host = uri.host().unwrap_or_default();
    let family = match &raw.family {
        Some(family) => choose("family", family, ApiFamily::NAMES)?,
        None => KNOWN_HOSTS
            .iter()
            .find(|(known, _)| is_known(host, known))
            .map(|(_, family)| *family)
            .ok_or_else(|| {
                Located::at(
                    &url.referenced,
                    format!(
                        "`url: {text}`: say which API it speaks, `family:` one of {}",
                        ApiFamily::NAMES.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?,
    };
    let key_env = raw.key_env.as_ref().map(|name| name.value.trim().to_owned());
    if let (Some(name), Some(written)) = (&key_env, &raw.key_env) {
        if name.is_empty() {
            return Err(Located::at(&written.referenced, "`key_env` names an environment variable"));
        }
    }
    Ok((family, RemoteUpstream { url: text.trim_end_matches('/').to_owned(), key_env }))
}

/// The `url:` as an origin: `https://host[:port]` (or `http://` on loopback), no path or query.
fn origin(url: &Spanned<String>) -> Checked<http::Uri> {
    let text = url.value.trim();
    let refuse = |why: String| Located::at(&url.referenced, format!("`url: {text}` {why}"));
    let uri: http::Uri = text.parse().map_err(|error| refuse(format!("is not a URL: {error}")))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => {}
        Some("http") if is_loopback_host(host) => {}
        Some("http") if !host.is_empty() => {
            return Err(refuse(
                "is plain HTTP beyond loopback: a provider is reached over `https://` (`http://` is for a \
                 server on this machine)"
                    .to_owned(),
            ))
        }
        _ => {
            return Err(refuse(
                "must be an `https://` URL with a host, like `https://api.openai.com`".to_owned(),
            ))
        }
    }
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    if !matches!(path, "" | "/") {
        return Err(refuse(format!(
            "has a path (`{path}`): give the origin only, like `https://{}`; each request keeps its own \
             path (`/v1/chat/completions`)",
            uri.authority().map_or(host, |a| a.as_str())
        )));
    }
    Ok(uri)
}

/// Refuses a `url:` beyond loopback unless the upstream (`allow_remote: true`) or the run
/// (the target's `allow_remote`, `--allow-remote`) allows it. Only the URL's text is read: no
/// name is resolved, nothing is connected to.
pub(super) fn check_allowed(raw: &RawUpstream, run_allows: bool) -> Checked<()> {
    let Some(url) = &raw.url else { return Ok(()) };
    let allowed = run_allows || raw.allow_remote.as_ref().is_some_and(|allow| allow.value);
    let host = url.value.trim().parse::<http::Uri>().ok().and_then(|uri| uri.host().map(str::to_owned));
    if allowed || host.as_deref().is_some_and(is_loopback_host) {
        return Ok(());
    }
    Err(Located::at(
        &url.referenced,
        format!(
            "`url: {}` is beyond loopback: requests (and their cost) would go to a real provider; add \
             `allow_remote: true` to this upstream (or pass --allow-remote) to mean it",
            url.value.trim()
        ),
    ))
}

/// Where the first mock-only option of `raw` is written, if any is.
fn mock_only(raw: &RawUpstream) -> Option<&Location> {
    let keys = raw.keys.as_ref().map(|k| &k.referenced);
    let latency = raw.latency.as_ref().map(|l| &l.referenced);
    let output = raw.output_tokens.as_ref().map(|o| &o.referenced);
    let limit = raw.rate_limit.as_ref().map(|r| &r.referenced);
    let overloaded = raw.overloaded.as_ref().map(|o| &o.referenced);
    keys.or(latency).or(output).or(limit).or(overloaded)
}

/// Where the first `url`-only option of `raw` is written, if any is.
pub(super) fn url_only(raw: &RawUpstream) -> Option<&Location> {
    let family = raw.family.as_ref().map(|f| &f.referenced);
    let key_env = raw.key_env.as_ref().map(|k| &k.referenced);
    let allow = raw.allow_remote.as_ref().map(|a| &a.referenced);
    family.or(key_env).or(allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error checking `yaml` gives.
    fn plan_error(yaml: &str) -> String {
        crate::parse(yaml, std::path::Path::new("t.yaml")).expect_err("an invalid scenario").to_string()
    }

    fn upstream(fields: &str) -> String {
        format!(
            "name: remote\nupstreams:\n  real: {{ {fields} }}\nload: {{ arrival: {{ rate: 1/s }}, request: {{ model: \
             gpt-4o-mini }} }}\nphases: [{{ name: only, duration: 1s }}]\n"
        )
    }

    #[test]
    fn a_url_is_an_https_origin_or_plain_http_on_loopback() {
        let path = plan_error(&upstream("url: https://api.openai.com/v1, key_env: K, allow_remote: true"));
        assert!(
            path.contains("has a path (`/v1`): give the origin only, like `https://api.openai.com`"),
            "{path}"
        );
        let plain = plan_error(&upstream("url: http://example.com, family: openai, allow_remote: true"));
        assert!(plain.contains("is plain HTTP beyond loopback"), "{plain}");
        let scheme = plan_error(&upstream("url: ftp://example.com, family: openai"));
        assert!(scheme.contains("must be an `https://` URL with a host"), "{scheme}");
    }

    #[test]
    fn the_family_is_written_or_known_from_the_provider_s_host() {
        let unknown = plan_error(&upstream("url: https://localhost:9443"));
        assert!(
            unknown.contains("say which API it speaks, `family:` one of openai, anthropic, azure, gemini"),
            "{unknown}"
        );
        let typo = plan_error(&upstream("url: https://localhost:9443, family: openia"));
        assert!(typo.contains("openai"), "{typo}");
    }

    #[test]
    fn mock_and_url_options_stay_apart() {
        let both = plan_error(&upstream("mock: openai, url: https://localhost:9443"));
        assert!(both.contains("needs exactly one of `mock`"), "{both}");
        let neither = plan_error(&upstream("zone: a"));
        assert!(neither.contains("needs exactly one of `mock`"), "{neither}");
        for option in ["keys: 2", "latency: { ttft: 1s }", "output_tokens: 5", "overloaded: 5%"] {
            let error =
                plan_error(&upstream(&format!("url: https://localhost:9443, family: openai, {option}")));
            assert!(error.contains("shape a mock's answers"), "{option}: {error}");
        }
        let key_env = plan_error(&upstream("mock: openai, key_env: K"));
        assert!(key_env.contains("go with a `url` upstream"), "{key_env}");
    }

    #[test]
    fn a_remote_host_needs_allow_remote() {
        let refused = plan_error(&upstream("url: https://api.openai.com, key_env: K"));
        assert!(refused.contains("3:16: `url: https://api.openai.com` is beyond loopback"), "{refused}");
        let allowed = crate::parse_allowing_remote(
            &upstream("url: https://api.openai.com, key_env: K"),
            std::path::Path::new("t.yaml"),
            true,
        );
        let remote = allowed.expect("allowed by --allow-remote").upstreams[0].remote.clone();
        let expected =
            RemoteUpstream { url: "https://api.openai.com".to_owned(), key_env: Some("K".to_owned()) };
        assert_eq!(remote, Some(expected));
        let own = crate::parse(
            &upstream("url: https://api.anthropic.com/, key_env: K, allow_remote: true"),
            std::path::Path::new("t.yaml"),
        );
        let upstream = &own.expect("allowed by the upstream's own allow_remote").upstreams[0];
        assert_eq!(upstream.family, ApiFamily::Anthropic, "known from the host");
        let azure = crate::parse(
            &self::tests::upstream(
                "url: https://my-resource.openai.azure.com, key_env: K, allow_remote: true",
            ),
            std::path::Path::new("t.yaml"),
        );
        assert_eq!(azure.expect("an Azure resource").upstreams[0].family, ApiFamily::Azure);
        assert!(!is_known("openai.azure.com.evil.test", ".openai.azure.com"));
        assert_eq!(upstream.keys, ["sk-chaos-real-0"], "the placeholder its key_env replaces");
    }

    #[test]
    fn the_built_in_client_needs_a_key_for_a_url_upstream() {
        let keyless = plan_error(&upstream("url: https://localhost:9443, family: openai"));
        assert!(keyless.contains("3:16: the built-in client has no key for upstream `real`"), "{keyless}");
    }
}
