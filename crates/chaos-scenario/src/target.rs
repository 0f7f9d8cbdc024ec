//! Raw target → checked [`Target`]: exactly one of `builtin`, `url` or `command`, options only
//! where they mean something, templates whose placeholders all exist, and no address beyond
//! loopback unless the scenario says `allow_remote`.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_saphyr::{Location, Spanned};

use super::{
    build::{choose, one_of, upstream_index, Checked},
    error::Located,
    plan::{BuiltinTarget, CommandTarget, KeyUse, Target, Upstream, UrlTarget},
    raw::{RawBuiltin, RawTarget},
};
use super::{
    key_pool::{build_pool, KeyPool},
    retry::RetryPolicy,
    template::Values,
};

const DEFAULT_RETRIES: u32 = 2;
/// The SDKs' default request timeout (10 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
const DEFAULT_STARTUP: Duration = Duration::from_secs(60);
const DEFAULT_BASE_URL: &str = "http://127.0.0.1:{{port}}";

/// The target, and whether it may be beyond loopback (the scenario or the command line,
/// `allow_remote`, said so).
pub fn build_target(
    raw: Option<&Spanned<RawTarget>>,
    upstreams: &[Upstream],
    scenario_file: &Path,
    allow_remote: bool,
) -> Checked<(Target, bool)> {
    let Some(Spanned { value: target, referenced, .. }) = raw else {
        return Ok((Target::Builtin(builtin(None, upstreams)?), allow_remote));
    };
    let allow_remote = allow_remote || target.allow_remote.unwrap_or(false);
    let kinds = [target.builtin.is_some(), target.url.is_some(), target.command.is_some()];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(Located::at(referenced, "`target` needs exactly one of `builtin`, `url` or `command`"));
    }
    let timeout = target.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0);
    let api_key_env = target.api_key_env.as_ref().map(|name| name.value.clone());
    let scenario_dir = scenario_file.parent().unwrap_or(Path::new("."));
    let keys = if target.builtin.is_some() { None } else { key_pool(target, scenario_dir)? };
    let built = if let Some(url) = &target.url {
        only_with_command(target)?;
        check_url(url, allow_remote)?;
        Target::Url(UrlTarget { url: url.value.trim().to_owned(), api_key_env, keys, timeout })
    } else if let Some(command) = &target.command {
        let names: Vec<(String, usize)> = upstreams.iter().map(|u| (u.name.clone(), u.keys.len())).collect();
        let values = Values::names_for(&names);
        let templated = |text: &Spanned<String>| -> Checked<String> {
            values
                .render(&text.value)
                .map_err(|e| Located::at(&text.referenced, e.message).shifted(e.offset))?;
            Ok(text.value.clone())
        };
        let base_url = match &target.base_url {
            Some(url) => templated(url)?,
            None => DEFAULT_BASE_URL.to_owned(),
        };
        Target::Command(CommandTarget {
            command: templated(command)?,
            env: target
                .env
                .iter()
                .map(|(name, value)| Ok((name.value.clone(), templated(value)?)))
                .collect::<Checked<_>>()?,
            files: target
                .files
                .iter()
                .map(|(name, template)| file_entry(name, template, scenario_dir))
                .collect::<Checked<_>>()?,
            base_url,
            health: target.health.as_ref().map(templated).transpose()?,
            startup_timeout: target.startup_timeout.map_or(DEFAULT_STARTUP, |t| t.0),
            api_key_env,
            keys,
            timeout,
        })
    } else {
        only_with_command(target)?;
        let gateway_option = target
            .api_key_env
            .iter()
            .chain(&target.keys_file)
            .map(|v| &v.referenced)
            .chain(target.keys_env.iter().map(|v| &v.referenced))
            .chain(target.aliases.keys().map(|k| &k.referenced))
            .next();
        if let Some(at) = gateway_option {
            return Err(Located::at(
                at,
                "`api_key_env`, `keys_env`, `keys_file` and `aliases` go with `url` or `command`; the built-in client uses the mocks' keys and models",
            ));
        }
        Target::Builtin(builtin(target.builtin.as_ref(), upstreams)?)
    };
    Ok((built, allow_remote))
}

/// The target's key pool, which replaces its one key (`api_key_env`).
fn key_pool(target: &RawTarget, scenario_dir: &Path) -> Checked<Option<KeyPool>> {
    let pool = build_pool(target.keys_env.as_ref(), target.keys_file.as_ref(), scenario_dir)?;
    match (&pool, &target.api_key_env) {
        (Some(_), Some(name)) => Err(Located::at(
            &name.referenced,
            "`api_key_env` names one key; with a key pool (`keys_env`, `keys_file`) leave it out",
        )),
        _ => Ok(pool),
    }
}

/// Rejects the options that only a `command` target has.
fn only_with_command(target: &RawTarget) -> Checked<()> {
    let misplaced: Option<&Location> = target
        .env
        .keys()
        .chain(target.files.keys())
        .map(|k| &k.referenced)
        .chain(target.base_url.iter().chain(&target.health).map(|v| &v.referenced))
        .next();
    match misplaced {
        Some(at) => {
            Err(Located::at(at, "`env`, `files`, `base_url` and `health` go with a `command` target"))
        }
        None => Ok(()),
    }
}

/// A file to render: a plain name (it lands in the run folder) and its template, relative to
/// the scenario.
fn file_entry(
    name: &Spanned<String>,
    template: &Spanned<String>,
    scenario_dir: &Path,
) -> Checked<(String, std::path::PathBuf)> {
    let plain = Path::new(&name.value).file_name().is_some_and(|f| f == name.value.as_str());
    if !plain {
        return Err(Located::at(
            &name.referenced,
            format!("file name `{}` must be a plain name; it is written into the run folder", name.value),
        ));
    }
    let path = scenario_dir.join(&template.value);
    if !path.is_file() {
        return Err(Located::at(
            &template.referenced,
            format!("template `{}` is not a readable file", path.display()),
        ));
    }
    Ok((name.value.clone(), path))
}

/// A URL target must be `http://host:port` on loopback, unless remote targets are allowed.
fn check_url(url: &Spanned<String>, allow_remote: bool) -> Checked<()> {
    let parsed: http::Uri = url
        .value
        .trim()
        .parse()
        .map_err(|e| Located::at(&url.referenced, format!("`url: {}` is not a URL: {e}", url.value)))?;
    if parsed.scheme_str() != Some("http") || parsed.host().is_none() {
        return Err(Located::at(
            &url.referenced,
            format!(
                "`url: {}` must be an http:// URL with a host (https targets are not supported yet)",
                url.value
            ),
        ));
    }
    if !crate::loopback::is_loopback_host(parsed.host().unwrap_or_default()) && !allow_remote {
        return Err(Located::at(&url.referenced, format!("`url: {}` is not on loopback; add `allow_remote: true` to the target (or pass --allow-remote) to test a remote gateway", url.value)));
    }
    Ok(())
}

fn builtin(raw: Option<&RawBuiltin>, upstreams: &[Upstream]) -> Checked<BuiltinTarget> {
    let index_of = |name: &Spanned<String>| upstream_index(name, upstreams);
    let Some(raw) = raw else {
        return Ok(BuiltinTarget {
            retries: DEFAULT_RETRIES,
            policy: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            chain: vec![0],
            models: BTreeMap::new(),
            keys: KeyUse::One,
        });
    };
    let policy = match &raw.backoff {
        Some(backoff) => {
            one_of("backoff", backoff, RetryPolicy::NAMES.iter().copied())?;
            RetryPolicy::from_name(&backoff.value).unwrap_or(RetryPolicy::Naive)
        }
        None => RetryPolicy::default(),
    };
    let retries = match &raw.retries {
        Some(r) if r.value > 10 => {
            return Err(Located::at(
                &r.referenced,
                format!("`retries: {}` is too many; expected 0 to 10", r.value),
            ))
        }
        Some(r) => r.value,
        None => DEFAULT_RETRIES,
    };
    let mut chain = vec![raw.upstream.as_ref().map(index_of).transpose()?.unwrap_or(0)];
    let mut models = BTreeMap::new();
    for fallback in &raw.fallbacks {
        let (index, model) = fallback_of(fallback, upstreams)?;
        if !chain.contains(&index) {
            chain.push(index);
            models.extend(model.map(|model| (index, model)));
        }
    }
    let keys = match &raw.keys {
        Some(keys) => choose("key use", keys, &[("one", KeyUse::One), ("pool", KeyUse::Pool)])?,
        None => KeyUse::One,
    };
    let timeout = raw.timeout.map_or(DEFAULT_TIMEOUT, |t| t.0);
    Ok(BuiltinTarget { retries, policy, timeout, chain, models, keys })
}

/// A fallback as written: `anthropic`, or `anthropic/claude-3-5-haiku` (LiteLLM's spelling) to
/// name the model asked of that upstream instead of the request's. A name that is an upstream's
/// whole is always that upstream.
fn fallback_of(fallback: &Spanned<String>, upstreams: &[Upstream]) -> Checked<(usize, Option<String>)> {
    let whole = upstreams.iter().position(|upstream| upstream.name == fallback.value);
    let split = fallback.value.split_once('/').filter(|_| whole.is_none());
    let Some((name, model)) = split else {
        return upstream_index(fallback, upstreams).map(|index| (index, None));
    };
    let named =
        Spanned { value: name.to_owned(), referenced: fallback.referenced, defined: fallback.defined };
    let index = upstream_index(&named, upstreams)?;
    if model.trim().is_empty() {
        let message =
            format!("`{}` names no model after `/`; write `{name}` or `{name}/<model>`", fallback.value);
        return Err(Located::at(&fallback.referenced, message));
    }
    Ok((index, Some(model.to_owned())))
}

#[cfg(test)]
mod tests {
    fn plan_with(fallbacks: &str) -> Result<crate::Plan, String> {
        let yaml = format!(
            "name: a\nupstreams: {{ openai: {{ mock: openai }}, anthropic: {{ mock: anthropic }} }}\n\
             target: {{ builtin: {{ fallbacks: {fallbacks} }} }}\n\
             load: {{ arrival: {{ rate: 1/s }}, request: {{ model: gpt-4o }} }}\n\
             phases: [{{ name: p, duration: 1s }}]\n"
        );
        crate::parse(&yaml, std::path::Path::new("test.yaml")).map_err(|error| error.to_string())
    }

    #[test]
    fn a_fallback_may_name_the_model_it_is_asked_for() {
        let plan = plan_with("[anthropic/claude-3-5-haiku]").expect("a plan");
        let crate::plan::Target::Builtin(builtin) = &plan.target else { panic!("builtin") };
        assert_eq!(builtin.chain, [0, 1]);
        assert_eq!(builtin.models.get(&1).map(String::as_str), Some("claude-3-5-haiku"));
        let described = plan.target.describe(&plan.upstreams);
        assert!(described.contains("openai → anthropic/claude-3-5-haiku"), "{described}");
        let plain = plan_with("[anthropic]").expect("a plan");
        let crate::plan::Target::Builtin(builtin) = &plain.target else { panic!("builtin") };
        assert!(builtin.models.is_empty(), "the request's own model");
    }

    #[test]
    fn a_fallback_naming_no_model_or_no_upstream_is_refused_at_its_place() {
        let empty = plan_with("[anthropic/]").unwrap_err();
        assert!(empty.contains("test.yaml:3:") && empty.contains("names no model"), "{empty}");
        let unknown = plan_with("[antropic/claude-3-5-haiku]").unwrap_err();
        assert!(unknown.contains("test.yaml:3:") && unknown.contains("antropic"), "{unknown}");
    }
}
