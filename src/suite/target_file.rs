//! The scorecard's target: what is graded and how to reach it, read from a target file
//! (`chaos scorecard --target FILE.yaml`) or named (`builtin:<profile>`, the harness's own
//! client emulations). `docs/scorecard.md` describes the file; `chaos schema scorecard-target`
//! prints its JSON Schema.
//!
//! ```yaml
//! name: litellm
//! gateway:                      # a scenario's `target:`: a `url` or a `command`
//!   command: litellm --config {{dir}}/litellm.yaml --host 127.0.0.1 --port {{port}}
//!   files: { litellm.yaml: litellm.template.yaml }
//! upstreams:                    # what it fronts, the primary first to be tried
//!   openai: { api: openai, role: primary }
//!   anthropic: { api: anthropic, role: fallback }
//! model: gpt-4o-mini            # what the load asks the gateway for
//! retries: 2                    # its retries per upstream
//! timeout: 30s                  # its timeout for one upstream attempt
//! ```
//!
//! A gateway configured per request (Portkey's `x-portkey-config`) gets its configuration in
//! `request_headers:`, sent with every load request; `{{upstreams.NAME.url}}` and
//! `{{upstreams.NAME.key}}` there are filled once the run's interposers listen.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::{
    located::Located,
    scenario::{error::from_yaml, retry::RetryPolicy, ScenarioError},
    units::{HumanDuration, Rate},
};

/// A target file as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetFile {
    /// Names the gateway in the scorecard and its scenarios.
    pub name: String,
    /// How to reach it: a scenario's `target:` block, a `url` (with the upstreams' `listen`
    /// addresses its config points at) or a `command` the harness starts for each scenario.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub gateway: Spanned<serde_json::Value>,
    /// The upstreams it fronts, by the names its config uses in `{{upstreams.NAME.url}}`.
    #[schemars(with = "BTreeMap<String, RawUpstream>")]
    pub upstreams: Spanned<BTreeMap<String, Spanned<RawUpstream>>>,
    /// The model the load asks the gateway for.
    pub model: String,
    /// Retries per upstream it is configured for (the chain's bound is `(1 + retries) × hops`).
    #[serde(default = "two")]
    pub retries: u32,
    /// Its timeout for one upstream attempt; the slow first token comes twice as late.
    #[serde(default = "thirty_seconds")]
    pub timeout: HumanDuration,
    /// Requests per second the suite sends it.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub rate: Option<Rate>,
    /// A `command` gateway is started `once` for the whole suite (the default: its upstreams
    /// get fixed `listen` addresses) or afresh for `each_scenario` (no state carried over, at
    /// the cost of a start each).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub start: Option<Spanned<String>>,
    /// Headers every load request carries, for a gateway configured per request (Portkey's
    /// `x-portkey-config`); values as a scenario's `load.request.headers` take them:
    /// `{{upstreams.NAME.url}}`, `{{upstreams.NAME.key}}`, `{{upstreams.NAME.keys.I}}`,
    /// `{{key}}`, `{{request_id}}`, `{{model}}`, `{{env.NAME}}`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub request_headers: BTreeMap<String, Spanned<String>>,
}

/// One upstream of the target file.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// Its API family: `openai` or `anthropic`.
    #[schemars(with = "String")]
    pub api: Spanned<String>,
    /// `primary` (exactly one) or `fallback`.
    #[schemars(with = "String")]
    pub role: Spanned<String>,
    /// Where its interposer listens, for a gateway configured in advance (`url` targets).
    #[serde(default)]
    pub listen: Option<String>,
    /// The keys the gateway pools for it (its config names them `{{upstreams.NAME.keys.I}}`);
    /// the primary's pool is what key exhaustion grades. Default 1.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub keys: Option<Spanned<u32>>,
}

fn two() -> u32 {
    2
}

fn thirty_seconds() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30))
}

/// How the suite reaches what it grades.
#[derive(Debug, Clone)]
pub enum Reach {
    /// The built-in client, retrying by this `backoff` profile.
    Builtin(String),
    /// A scenario's `target:` block, as JSON.
    Gateway(serde_json::Value),
}

/// An upstream as the suite's scenarios declare it.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub name: String,
    pub api: String,
    pub listen: Option<String>,
    /// Its mock's keys, pooled by the gateway.
    pub keys: u32,
}

/// What the suite grades, checked.
#[derive(Debug, Clone)]
pub struct SuiteTarget {
    pub name: String,
    pub reach: Reach,
    /// The primary first, then the fallbacks by name.
    pub upstreams: Vec<Upstream>,
    pub model: String,
    pub retries: u32,
    pub timeout_s: f64,
    /// Requests per second of scenario time.
    pub rate_per_s: f64,
    /// A `command` gateway started once for the suite, not once a scenario.
    pub start_once: bool,
    /// Headers every load request carries, placeholders unfilled.
    pub request_headers: Vec<(String, String)>,
}

/// The keys the built-in client pools for its primary, a key a request in turn.
pub const BUILTIN_PRIMARY_KEYS: u32 = 3;

/// The profiles `builtin:` takes: the built-in client's retry policies.
pub fn builtin_profiles() -> impl Iterator<Item = &'static str> {
    RetryPolicy::NAMES.iter().copied().filter(|name| *name != "sdk")
}

impl SuiteTarget {
    /// `builtin:<profile>`: the built-in client over an OpenAI primary (with a pool of
    /// [`BUILTIN_PRIMARY_KEYS`] keys) and an Anthropic fallback, 2 retries, a 5 s timeout, 10
    /// requests a second.
    pub fn builtin(profile: &str) -> Result<Self, String> {
        if !builtin_profiles().any(|name| name == profile) {
            let known: Vec<_> = builtin_profiles().collect();
            return Err(format!("no built-in profile `{profile}`; the profiles are {}", known.join(", ")));
        }
        let upstream =
            |name: &str, keys| Upstream { name: name.to_owned(), api: name.to_owned(), listen: None, keys };
        Ok(SuiteTarget {
            name: format!("builtin:{profile}"),
            reach: Reach::Builtin(profile.to_owned()),
            upstreams: vec![upstream("openai", BUILTIN_PRIMARY_KEYS), upstream("anthropic", 1)],
            model: "gpt-4o-mini".to_owned(),
            retries: 2,
            timeout_s: 5.0,
            rate_per_s: 10.0,
            start_once: false,
            request_headers: Vec::new(),
        })
    }

    /// Reads and checks a target file; errors name `file:line:column`.
    pub fn read(path: &Path) -> Result<Self, ScenarioError> {
        let source = crate::scenario::read::read_text(path)
            .map_err(|error| ScenarioError::whole_file(path, format!("the target file {error}")))?;
        let raw: RawTargetFile = serde_saphyr::from_str(&source)
            .map_err(|error| ScenarioError::new(path, &source, from_yaml(&error)))?;
        let folder = path.parent().unwrap_or(Path::new("."));
        checked(raw, folder).map_err(|located| ScenarioError::new(path, &source, located))
    }
}

fn checked(raw: RawTargetFile, folder: &Path) -> Result<SuiteTarget, Located> {
    let serde_json::Value::Object(mut gateway) = raw.gateway.value else {
        return Err(Located::at(
            &raw.gateway.referenced,
            "`gateway` is a mapping: a scenario's `target:` with `url` or `command`",
        ));
    };
    if gateway.contains_key("builtin") || !(gateway.contains_key("url") || gateway.contains_key("command")) {
        return Err(Located::at(&raw.gateway.referenced, "`gateway` needs a `url` or a `command` (for the built-in client, use `--target builtin:<profile>`)"));
    }
    absolute_files(&mut gateway, folder);
    let mut primary = Vec::new();
    let mut fallbacks = Vec::new();
    for (name, upstream) in raw.upstreams.value {
        let upstream = upstream.value;
        crate::located::one_of("api", &upstream.api, ["openai", "anthropic"])?;
        crate::located::one_of("role", &upstream.role, ["primary", "fallback"])?;
        let keys = match &upstream.keys {
            Some(keys) if keys.value == 0 || keys.value > 64 => {
                return Err(Located::at(&keys.referenced, "`keys` is between 1 and 64"));
            }
            Some(keys) => keys.value,
            None => 1,
        };
        let entry = Upstream { name, api: upstream.api.value, listen: upstream.listen, keys };
        if upstream.role.value == "primary" {
            primary.push(entry)
        } else {
            fallbacks.push(entry)
        }
    }
    if primary.len() != 1 || fallbacks.is_empty() {
        return Err(Located::at(
            &raw.upstreams.referenced,
            format!("`upstreams` needs exactly one `role: primary` and at least one `role: fallback` (found {} and {})", primary.len(), fallbacks.len()),
        ));
    }
    primary.extend(fallbacks);
    let start_once = match &raw.start {
        Some(start) => {
            crate::located::one_of("start", start, ["once", "each_scenario"])?;
            start.value == "once"
        }
        None => true,
    } && gateway.contains_key("command");
    let request_headers = checked_headers(&raw.request_headers, &primary)?;
    Ok(SuiteTarget {
        name: raw.name,
        reach: Reach::Gateway(serde_json::Value::Object(gateway)),
        upstreams: primary,
        model: raw.model,
        retries: raw.retries,
        timeout_s: raw.timeout.0.as_secs_f64(),
        rate_per_s: raw.rate.map_or(5.0, |rate| rate.0),
        start_once,
        request_headers,
    })
}

/// The placeholders a request header may name: the request's own and the upstreams'.
const REQUEST_NAMES: [&str; 4] = ["key", "request_id", "model", "max_tokens"];

/// `request_headers`, each value's placeholders known (an upstream's among `upstreams`, the
/// request's, `env.NAME`); an unknown one is an error at its value.
fn checked_headers(
    headers: &BTreeMap<String, Spanned<String>>,
    upstreams: &[Upstream],
) -> Result<Vec<(String, String)>, Located> {
    let names: Vec<(String, usize)> = upstreams.iter().map(|u| (u.name.clone(), u.keys as usize)).collect();
    let values = crate::scenario::template::Values::names_for(&names);
    let known = |name: &str| {
        REQUEST_NAMES.contains(&name)
            || (name.starts_with("upstreams.") && values.has(name))
            || name.strip_prefix("env.").is_some_and(|variable| !variable.is_empty())
    };
    let listed: Vec<String> =
        upstreams.iter().map(|u| format!("upstreams.{}.url, upstreams.{}.key", u.name, u.name)).collect();
    let listed = format!("{}, {}, env.NAME", REQUEST_NAMES.join(", "), listed.join(", "));
    headers
        .iter()
        .map(|(name, value)| {
            crate::scenario::template::Template::parse(&value.value, known, &listed).map_err(|error| {
                Located::at(&value.referenced, format!("`request_headers.{name}`: {}", error.message))
            })?;
            Ok((name.clone(), value.value.clone()))
        })
        .collect()
}

/// A command target's `files:` name templates relative to the target file; the scenarios are
/// written elsewhere, so each becomes an absolute path.
fn absolute_files(gateway: &mut serde_json::Map<String, serde_json::Value>, folder: &Path) {
    let Some(serde_json::Value::Object(files)) = gateway.get_mut("files") else { return };
    for template in files.values_mut() {
        if let serde_json::Value::String(relative) = template {
            let path =
                std::path::absolute(folder.join(&*relative)).unwrap_or_else(|_| folder.join(&*relative));
            *relative = path.display().to_string();
        }
    }
}

/// The JSON Schema of a target file.
pub fn target_file_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<RawTargetFile>().to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<SuiteTarget, String> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("target.yaml");
        std::fs::write(&path, text).unwrap();
        SuiteTarget::read(&path).map_err(|error| error.to_string())
    }

    const GOOD: &str = "name: g\ngateway: { url: \"http://127.0.0.1:4000\" }\nupstreams:\n  b: { api: anthropic, role: fallback }\n  a: { api: openai, role: primary, listen: \"127.0.0.1:9101\" }\nmodel: m\n";

    #[test]
    fn a_target_file_puts_the_primary_first() {
        let target = read(GOOD).unwrap();
        assert_eq!(target.upstreams.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((target.retries, target.timeout_s, target.rate_per_s), (2, 30.0, 5.0));
    }

    #[test]
    fn a_misspelt_role_is_refused_at_its_line_and_column() {
        let error = read(&GOOD.replace("role: fallback", "role: fallbak")).unwrap_err();
        assert!(error.contains("target.yaml:4:") && error.contains("fallback"), "{error}");
    }

    #[test]
    fn an_unknown_key_and_a_missing_primary_are_refused() {
        assert!(read(&GOOD.replace("model: m", "modle: m")).unwrap_err().contains("modle"));
        let error = read(&GOOD.replace("role: primary", "role: fallback")).unwrap_err();
        assert!(error.contains("exactly one `role: primary`"), "{error}");
    }

    #[test]
    fn a_command_gateway_starts_once_unless_asked_for_each_scenario() {
        let command = GOOD.replace("url: \"http://127.0.0.1:4000\"", "command: \"gw --port {{port}}\"");
        assert!(read(&command).unwrap().start_once);
        assert!(!read(&format!("{command}start: each_scenario\n")).unwrap().start_once);
        assert!(!read(GOOD).unwrap().start_once, "a url gateway is already running");
        let error = read(&format!("{command}start: twice\n")).unwrap_err();
        assert!(error.contains("target.yaml:7:") && error.contains("each_scenario"), "{error}");
    }

    #[test]
    fn request_headers_name_the_upstreams_and_an_unknown_one_is_refused_at_its_value() {
        let headers =
            "request_headers:\n  x-cfg: '{\"h\": \"{{upstreams.a.url}}\", \"k\": \"{{upstreams.b.key}}\"}'\n";
        let target = read(&format!("{GOOD}{headers}")).unwrap();
        assert_eq!(
            target.request_headers,
            [("x-cfg".to_owned(), r#"{"h": "{{upstreams.a.url}}", "k": "{{upstreams.b.key}}"}"#.to_owned())]
        );
        assert!(read(GOOD).unwrap().request_headers.is_empty());
        let error =
            read(&format!("{GOOD}{}", headers.replace("upstreams.b.key", "upstreams.c.key"))).unwrap_err();
        assert!(
            error.contains("target.yaml:8:10") && error.contains("unknown placeholder `{{upstreams.c.key}}`"),
            "{error}"
        );
    }

    #[test]
    fn a_builtin_profile_must_be_one_the_client_has() {
        assert!(SuiteTarget::builtin("naive").is_ok());
        assert!(SuiteTarget::builtin("openai-python").is_ok());
        assert!(SuiteTarget::builtin("sloppy").unwrap_err().contains("naive"));
    }
}
