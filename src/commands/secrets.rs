//! The warning `chaos validate` and `chaos run` give when a scenario holds a secret written
//! out (an `sk-…` key, a `Bearer …` token, the value of a `*key*`/`*token*`/`*secret*`/
//! `*password*` key): one line on stderr naming where, with what to write instead. The run goes
//! on, its results hold the scenario with the secret redacted, and the exit code is unchanged.

use crate::{results::literal_secrets, scenario::Plan};

/// Warns, on one line, of the secrets `plan`'s text holds; says nothing when it holds none.
pub fn warn_of_literal_secrets(plan: &Plan) {
    if let Some(line) = warning(plan) {
        eprintln!("{line}");
    }
}

fn warning(plan: &Plan) -> Option<String> {
    let secrets = literal_secrets(&plan.source);
    let first = secrets.first()?;
    let what = first.name.as_deref().map_or_else(|| "a secret".to_owned(), |name| format!("`{name}`"));
    let others: Vec<String> = secrets[1..].iter().map(|s| format!("{}:{}", s.line, s.column)).collect();
    let also = if others.is_empty() { String::new() } else { format!(" (and at {})", others.join(", ")) };
    Some(format!(
        "warning: {}:{}:{}: {what} is a literal secret{also}; results and reports redact it, but \
         keep keys out of the file: write `{{{{env.NAME}}}}` in `env:` or a header, `api_key_env` \
         on the target, `key_env` on an upstream",
        plan.file.display(),
        first.line,
        first.column
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_each_place_and_what_to_write_instead() {
        let plan = crate::scenario::parse(
            "name: w\nupstreams: { openai: { mock: openai } }\ntarget:\n  builtin: { upstream: openai }\n\
             load: { arrival: { rate: 1/s }, request: { model: m, headers: { x-gateway-token: sk-abc, x-b: \"Bearer t0k\" } } }\n\
             phases: [{ name: p, duration: 1s }]\n",
            std::path::Path::new("w.yaml"),
        )
        .expect("a valid scenario");
        let line = warning(&plan).expect("a warning");
        assert!(
            line.starts_with("warning: w.yaml:5:82: `x-gateway-token` is a literal secret (and at 5:95)"),
            "{line}"
        );
        assert!(line.contains("`{{env.NAME}}`") && line.contains("`api_key_env`"), "{line}");
        assert!(!line.contains("sk-abc") && !line.contains("t0k"), "{line}");
        assert!(!line.contains('\n'));
    }
}
