//! Whether a mocked answer calls a tool, and the call it makes. The dialects read their
//! family's `tools` and `tool_choice` into a [`ToolChoice`]; [`ToolChoice::pick`] applies the
//! same rule for both: a forced choice (`required`/`any`, or a named tool) always calls; `auto`
//! calls the first tool when the conversation ends with the user's turn and answers in text
//! once it ends with a tool's result, so an agent loop of model → tool → model ends; `none`
//! never calls. A call's arguments are drawn from the answer's seed ([`super::tool_arguments`])
//! and streamed in fragments of [`CHARS_PER_FRAGMENT`] characters, one per output token.

use rand::rngs::StdRng;
use serde_json::Value;

use super::tool_arguments;
use crate::wire::tokens;

/// Characters of the arguments' JSON per streamed fragment (and per output token counted).
pub const CHARS_PER_FRAGMENT: usize = 4;

/// A tool the request offered: its name and the JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub parameters: Value,
}

/// What the request allows, as both families mean it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// OpenAI `auto` (the default with tools), Anthropic `auto`.
    Auto,
    /// OpenAI `required`, Anthropic `any`.
    Required,
    /// A named tool (OpenAI `{type: function, function: {name}}`, Anthropic `{type: tool, name}`).
    Named(String),
    /// `none`.
    None,
}

/// The tools of a request and the choice it made among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolAsk {
    pub tools: Vec<Tool>,
    pub choice: ToolChoice,
    /// True when the conversation's last turn is the user's own (not a tool's result).
    pub user_turn: bool,
}

impl ToolAsk {
    /// The tool this answer calls, if it calls one.
    pub fn pick(&self) -> Option<&Tool> {
        match &self.choice {
            ToolChoice::Auto if self.user_turn => self.tools.first(),
            ToolChoice::Required => self.tools.first(),
            ToolChoice::Named(name) => self.tools.iter().find(|tool| &tool.name == name),
            ToolChoice::Auto | ToolChoice::None => None,
        }
    }
}

/// Prompt tokens a request's tool definitions add: the estimate's characters per token, of
/// their JSON (both families count the definitions as input).
pub fn definition_tokens(tools: &Value) -> u64 {
    match tools {
        Value::Null => 0,
        tools => tokens::content_chars(tools).div_ceil(tokens::CHARS_PER_TOKEN),
    }
}

/// One call the mock makes: the tool's name and its arguments as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    /// A call of `tool` with arguments drawn from `rng`.
    pub fn new(tool: &Tool, rng: &mut StdRng) -> Self {
        let arguments = tool_arguments::fitting(&tool.parameters, rng).to_string();
        ToolCall { name: tool.name.clone(), arguments }
    }

    /// The arguments, split into the fragments a stream carries (at character boundaries).
    pub fn fragments(&self) -> Vec<String> {
        let chars: Vec<char> = self.arguments.chars().collect();
        chars.chunks(CHARS_PER_FRAGMENT).map(|chunk| chunk.iter().collect()).collect()
    }

    /// The arguments as a JSON value (Anthropic's `input`).
    pub fn input(&self) -> Value {
        serde_json::from_str(&self.arguments).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use serde_json::json;

    use super::*;

    fn tools() -> Vec<Tool> {
        ["lookup", "book"]
            .map(|name| Tool { name: name.into(), parameters: json!({ "type": "object" }) })
            .to_vec()
    }

    fn picked(choice: ToolChoice, user_turn: bool) -> Option<String> {
        ToolAsk { tools: tools(), choice, user_turn }.pick().map(|tool| tool.name.clone())
    }

    #[test]
    fn auto_calls_on_the_users_turn_and_answers_after_a_tool_result() {
        assert_eq!(picked(ToolChoice::Auto, true).as_deref(), Some("lookup"));
        assert_eq!(picked(ToolChoice::Auto, false), None, "the agent loop ends");
        assert_eq!(picked(ToolChoice::Required, false).as_deref(), Some("lookup"));
        assert_eq!(picked(ToolChoice::Named("book".into()), false).as_deref(), Some("book"));
        assert_eq!(picked(ToolChoice::None, true), None);
    }

    #[test]
    fn the_fragments_put_back_together_are_the_arguments() {
        let tool = Tool {
            name: "lookup".into(),
            parameters: json!({ "type": "object", "properties": { "q": { "enum": ["ünïcode ☂"] } }, "required": ["q"] }),
        };
        let call = ToolCall::new(&tool, &mut StdRng::seed_from_u64(3));
        let fragments = call.fragments();
        assert!(fragments.len() > 2);
        assert_eq!(fragments.concat(), call.arguments);
        assert_eq!(call.input(), json!({ "q": "ünïcode ☂" }));
    }
}
