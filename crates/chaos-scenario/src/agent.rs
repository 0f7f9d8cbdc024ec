//! A request kind that is a small agent's task (`tools: 2, agent_steps: 3`): the model is
//! offered `tools` function tools and called `agent_steps` times, each call after the first
//! carrying the previous calls' tool calls and their results. The task is the logical request;
//! every call of it is one of its attempts, so retry amplification and cost per request read
//! per task (a calm `agent_steps: 3` task amplifies 3.0).
//!
//! Every call before the last forces a tool call (OpenAI `tool_choice: required`, Anthropic
//! `any`), the last leaves it to the model (`auto`), so a task has exactly `agent_steps` calls
//! whatever model answers, and the mocks end it with text.

use serde_saphyr::Spanned;

use super::{
    build::Checked,
    error::Located,
    most::{AGENT_STEPS as MOST_STEPS, TOOLS as MOST_TOOLS},
};

/// The agent loop of a request kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentLoop {
    /// Function tools offered on every call (`tool_1` … `tool_N`).
    pub tools: u32,
    /// Model calls per task.
    pub steps: u32,
}

impl AgentLoop {
    /// Whether call `step` (from 0) is the task's last: the one left to the model.
    pub fn is_last(self, step: u32) -> bool {
        step + 1 >= self.steps
    }
}

/// The checked loop from a request's `tools` and `agent_steps`: `tools` alone is a one-call
/// task offering tools; `agent_steps` needs `tools`; neither may be given with a `body` of the
/// scenario's own (the loop writes the body).
pub fn build_agent(
    tools: Option<&Spanned<u32>>,
    steps: Option<&Spanned<u32>>,
    own_body: Option<&serde_saphyr::Location>,
) -> Checked<Option<AgentLoop>> {
    let Some(tools) = tools else {
        return match steps {
            Some(steps) => Err(Located::at(
                &steps.referenced,
                "`agent_steps` needs `tools`: the tools the agent may call (`tools: 1`)",
            )),
            None => Ok(None),
        };
    };
    if !(1..=MOST_TOOLS).contains(&tools.value) {
        return Err(Located::at(&tools.referenced, format!("`tools` must be 1 to {MOST_TOOLS}")));
    }
    if let Some(steps) = steps.filter(|steps| !(1..=MOST_STEPS).contains(&steps.value)) {
        return Err(Located::at(&steps.referenced, format!("`agent_steps` must be 1 to {MOST_STEPS}")));
    }
    if let Some(body) = own_body {
        return Err(Located::at(
            body,
            "a request with `tools` writes its own body; leave out `body` and `body_file`",
        ));
    }
    Ok(Some(AgentLoop { tools: tools.value, steps: steps.map_or(1, |steps| steps.value) }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn request(keys: &str) -> Result<Option<AgentLoop>, String> {
        let yaml = format!(
            "name: t\nupstreams:\n  openai: {{ mock: openai }}\nload:\n  arrival: {{ rate: 1/s }}\n  request: {{ model: m, {keys} }}\nphases:\n  - {{ name: p, duration: 1s }}\n"
        );
        crate::parse(&yaml, Path::new("t.yaml"))
            .map(|plan| plan.load.mix.kinds()[0].agent)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn tools_with_or_without_steps_and_the_bounds() {
        assert_eq!(request("stream: true"), Ok(None));
        assert_eq!(request("tools: 2"), Ok(Some(AgentLoop { tools: 2, steps: 1 })));
        assert_eq!(request("tools: 1, agent_steps: 3"), Ok(Some(AgentLoop { tools: 1, steps: 3 })));
        let error = request("agent_steps: 2").unwrap_err();
        assert!(error.contains("t.yaml:6:") && error.contains("needs `tools`"), "{error}");
        assert!(request("tools: 0").unwrap_err().contains("`tools` must be 1 to 16"));
        assert!(request("tools: 1, agent_steps: 17").unwrap_err().contains("`agent_steps` must be 1 to 16"));
        let error = request("tools: 1, body: { model: m }").unwrap_err();
        assert!(error.contains("own body"), "{error}");
    }

    #[test]
    fn the_last_step_is_the_models() {
        let agent = AgentLoop { tools: 1, steps: 2 };
        assert!(!agent.is_last(0));
        assert!(agent.is_last(1));
    }
}
