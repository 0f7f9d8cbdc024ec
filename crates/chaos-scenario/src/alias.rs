//! Model aliases: the names a gateway exposes (`target.aliases: { team-a-fast: gpt-4o-mini }`).
//! A request names the alias (`load.request.model: team-a-fast`) and carries it on the wire;
//! what is billed, priced and matched is the model behind it, as the upstream sees it. So a
//! fault that matches an alias, which no request reaching an upstream carries, is an error.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde_saphyr::Spanned;

use super::{build::Checked, error::Located, raw::RawPhase};

/// The aliases as written: each a non-empty name for another, non-empty model.
pub fn build_aliases(raw: &IndexMap<Spanned<String>, Spanned<String>>) -> Checked<BTreeMap<String, String>> {
    raw.iter()
        .map(|(alias, model)| {
            if alias.value.trim().is_empty() {
                return Err(Located::at(&alias.referenced, "an alias must not be empty"));
            }
            if model.value.trim().is_empty() || model.value == alias.value {
                return Err(Located::at(
                    &model.referenced,
                    format!("alias `{}` must name the model the upstream bills, another name", alias.value),
                ));
            }
            Ok((alias.value.clone(), model.value.clone()))
        })
        .collect()
}

/// Refuses a fault that matches a model by its alias: the interposers see the model behind it.
pub fn check_fault_matches(aliases: &BTreeMap<String, String>, phases: &[Spanned<RawPhase>]) -> Checked<()> {
    let rules = phases.iter().flat_map(|phase| phase.value.faults.values()).flatten();
    for rule in rules {
        let model = rule.value.matcher.as_ref().and_then(|m| m.model.as_deref());
        if let Some((alias, billed)) = model.and_then(|m| aliases.get_key_value(m)) {
            return Err(Located::at(
                &rule.referenced,
                format!("`match: {{ model: {alias} }}` names an alias; upstreams see the model behind it, `{billed}`"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn plan_from(yaml: &str) -> Result<crate::Plan, crate::ScenarioError> {
        crate::parse(yaml, std::path::Path::new("test.yaml"))
    }

    #[test]
    fn a_request_carries_the_alias_and_bills_the_model_behind_it() {
        let plan = plan_from(
            "name: a\nupstreams: { openai: { mock: openai } }\n\
             target: { url: \"http://127.0.0.1:4000\", aliases: { team-a-fast: gpt-4o-mini } }\n\
             load: { arrival: { rate: 1/s }, request: { model: team-a-fast } }\n\
             phases: [{ name: p, duration: 1s }]\n",
        )
        .expect("a plan");
        let kind = &plan.load.mix.kinds()[0];
        assert_eq!((&*kind.model, &*kind.billed_model), ("team-a-fast", "gpt-4o-mini"));
    }

    #[test]
    fn a_fault_matching_an_alias_is_refused_with_the_model_to_match() {
        let error = plan_from(
            "name: a\nupstreams: { openai: { mock: openai } }\n\
             target: { url: \"http://127.0.0.1:4000\", aliases: { team-a-fast: gpt-4o-mini } }\n\
             load: { arrival: { rate: 1/s }, request: { model: team-a-fast } }\n\
             phases: [{ name: p, duration: 1s, faults: { openai: [{ status: 500, match: { model: team-a-fast } }] } }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("test.yaml:5:") && error.contains("`gpt-4o-mini`"), "{error}");
    }
}
