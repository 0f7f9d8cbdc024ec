//! Scenario errors that name `file:line:column`, say what is wrong and what was expected, and
//! suggest the closest known name for a misspelt key.

use std::{fmt, path::PathBuf};

pub use crate::located::{closest, Located};

/// An invalid scenario: where, what, and the offending source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
    snippet: Option<Snippet>,
}

/// The most characters of the offending line an error shows: a long line is cut around the
/// column, with `…` where it was cut.
const SNIPPET_CHARS: usize = 200;

/// The part of the offending line an error shows, and how many characters precede the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snippet {
    text: String,
    caret: usize,
}

impl Snippet {
    /// At most [`SNIPPET_CHARS`] of `line` around `column` (1-based, in characters).
    fn around(line: &str, column: u32) -> Snippet {
        let length = line.chars().count();
        let at = (column.saturating_sub(1) as usize).min(length);
        if length <= SNIPPET_CHARS {
            return Snippet { text: line.to_owned(), caret: at };
        }
        let end = (at.saturating_sub(SNIPPET_CHARS / 2) + SNIPPET_CHARS).min(length);
        let start = end - SNIPPET_CHARS;
        let (before, after) = (if start > 0 { "…" } else { "" }, if end < length { "…" } else { "" });
        let shown: String = line.chars().skip(start).take(SNIPPET_CHARS).collect();
        Snippet { text: format!("{before}{shown}{after}"), caret: at - start + before.chars().count() }
    }
}

/// The most characters of a message: one that quotes a value a megabyte long keeps its start
/// and its end (what was expected), with `…` for the rest.
const MESSAGE_CHARS: usize = 1_000;

/// `message`, cut in the middle past [`MESSAGE_CHARS`].
fn bounded(message: String) -> String {
    let length = message.chars().count();
    if length <= MESSAGE_CHARS {
        return message;
    }
    let half = MESSAGE_CHARS / 2;
    let start: String = message.chars().take(half).collect();
    let end: String = message.chars().skip(length - half).collect();
    format!("{start}…{end}")
}

impl ScenarioError {
    pub fn new(file: impl Into<PathBuf>, source: &str, located: Located) -> Self {
        let snippet = source
            .lines()
            .nth(located.line.saturating_sub(1) as usize)
            .map(|line| Snippet::around(line, located.column));
        ScenarioError {
            file: file.into(),
            line: located.line,
            column: located.column,
            message: bounded(located.message),
            snippet,
        }
    }

    /// An error about the file as a whole (unreadable, empty).
    pub fn whole_file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ScenarioError { file: file.into(), line: 1, column: 1, message: message.into(), snippet: None }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)?;
        if let Some(Snippet { text, caret }) = &self.snippet {
            let gutter = self.line.to_string().len();
            let caret = " ".repeat(*caret);
            write!(f, "\n{:gutter$} |\n{} | {text}\n{:gutter$} | {caret}^", "", self.line, "")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Turns a YAML/serde error into a located message, adding a suggestion for unknown keys.
pub fn from_yaml(error: &serde_saphyr::Error) -> Located {
    let text = error.without_snippet().to_string();
    // serde-saphyr appends " at line L, column C"; the location is reported separately.
    let message = match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    };
    let message = with_suggestion(plain_type_error(in_user_words(message)));
    match error.location() {
        Some(location) => Located::at(&location, message),
        None => Located { line: 1, column: 1, message },
    }
}

/// Rewrites messages that name the parser's internals ("set DuplicateKeyPolicy in Options",
/// "untagged enum RawTokenCount", "Depth { depth: 65 }") into what is wrong with the file.
fn in_user_words(message: String) -> String {
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return format!("`{key}` is given twice in this mapping; keep one");
    }
    if let Some(name) = message.strip_prefix("data did not match any variant of untagged enum ") {
        let forms = match name.trim() {
            "RawTokenCount" => "a token count: a whole number like `800`, or `{ min: 100, max: 900 }`",
            "Text" => "a number or a text",
            _ => "one of the forms this key takes (see docs/scenarios.md)",
        };
        return format!("this value has none of the forms it may take: expected {forms}");
    }
    if message.contains("Depth {") || message.contains("recursion limit") {
        return "the document nests deeper than a scenario can (64 levels)".to_owned();
    }
    if let Some(breach) = message.strip_prefix("budget breached: ") {
        return beyond_the_reader_s_budget(breach);
    }
    message
}

/// "budget breached: Nodes { nodes: 50001 } (defined at line 3, column 9) …", said as what
/// the document holds too much of; the place an alias's anchor was defined is kept.
fn beyond_the_reader_s_budget(breach: &str) -> String {
    let kind = breach.split([' ', '{']).next().unwrap_or_default();
    let context = breach.split_once("} ").map_or("", |(_, rest)| rest.trim());
    let what = match kind {
        "Nodes" | "Events" | "RecordedAnchorEvents" => format!(
            "the document holds more than {} values once its aliases (`*name`) are expanded; \
             a scenario holds a few hundred",
            crate::most::YAML_NODES
        ),
        "ScalarBytes" | "RecordedAnchorBytes" => format!(
            "the document holds more than {} MiB of text once its aliases (`*name`) are expanded",
            crate::most::YAML_TEXT_BYTES >> 20
        ),
        "Aliases" | "Anchors" | "AliasAnchorRatio" => {
            "the document uses more aliases (`*name`) or anchors (`&name`) than a scenario can".to_owned()
        }
        "Documents" => "the file holds more YAML documents (`---`) than a scenario can".to_owned(),
        _ => "the document is larger than a scenario can be".to_owned(),
    };
    if context.is_empty() {
        what
    } else {
        format!("{what} {context}")
    }
}

/// Rewrites serde-saphyr's terse "invalid u32" into what the value should look like.
fn plain_type_error(message: String) -> String {
    let expected = match message.strip_prefix("invalid ") {
        Some("u8" | "u16" | "u32" | "u64" | "usize") => "a whole number ≥ 0, like `2`",
        Some("i8" | "i16" | "i32" | "i64" | "isize") => "a whole number, like `2`",
        Some("f32" | "f64") => "a number, like `0.5`",
        Some("bool" | "boolean") => "`true` or `false`",
        _ => return message,
    };
    format!("{message}: expected {expected}")
}

/// For "unknown field `x`, expected one of a, b, c" adds "did you mean `b`?".
fn with_suggestion(message: String) -> String {
    let unknown =
        ["unknown field `", "unknown variant `"].iter().find_map(|prefix| message.strip_prefix(prefix));
    let Some(rest) = unknown else { return message };
    let Some((given, rest)) = rest.split_once('`') else { return message };
    let Some(expected) = rest.split_once("expected ").map(|(_, list)| list) else { return message };
    let candidates = expected
        .trim_start_matches("one of ")
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(|name| name.trim().trim_matches('`'));
    match closest(given, candidates) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_known_key() {
        let message =
            with_suggestion("unknown field `latncy`, expected one of status, latency, probability".into());
        assert!(message.ends_with("did you mean `latency`?"), "{message}");
        let far = with_suggestion("unknown field `zzzzzz`, expected one of status, latency".into());
        assert!(!far.contains("did you mean"), "{far}");
    }

    #[test]
    fn display_names_file_line_column_and_points_at_the_column() {
        let source = "name: x\nphases:\n  - { duraton: 5s }\n";
        let error =
            ScenarioError::new("s.yaml", source, Located { line: 3, column: 7, message: "bad".into() });
        let shown = error.to_string();
        assert!(shown.starts_with("s.yaml:3:7: bad"), "{shown}");
        assert!(shown.ends_with("\n  |       ^"), "{shown:?}");
    }

    /// The shown line and the caret's line of a rendered error.
    fn shown_line_and_caret(source: &str, column: u32) -> (String, String) {
        let error = ScenarioError::new("s.yaml", source, Located { line: 1, column, message: "bad".into() });
        let shown = error.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        let after = |line: &str, prefix: &str| line.strip_prefix(prefix).expect("a gutter").to_owned();
        (after(lines[2], "1 | "), after(lines[3], "  | "))
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_and_the_caret_stays_under_it() {
        let line = format!("{}X{}", "a".repeat(5_000), "é".repeat(5_000));
        let (text, caret) = shown_line_and_caret(&line, 5_001);
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert_eq!(text.chars().count(), SNIPPET_CHARS + 2);
        assert_eq!(text.chars().nth(caret.chars().count() - 1), Some('X'), "{text}\n{caret}");
        let (start, caret) = shown_line_and_caret(&line, 3);
        assert!(start.starts_with("aaa") && start.ends_with('…'), "no cut before the column");
        assert_eq!(caret, "  ^");
        let (end, caret) = shown_line_and_caret(&line, 10_000);
        assert!(end.starts_with('…') && end.ends_with('é'), "{end}");
        assert_eq!(end.chars().nth(caret.chars().count() - 1), Some('é'));
        let (short, _) = shown_line_and_caret("name: x", 7);
        assert_eq!(short, "name: x", "a short line is shown whole");
    }

    #[test]
    fn a_message_quoting_a_megabyte_keeps_its_start_and_end_in_a_thousand_characters() {
        let message = format!("unknown metric `{}`; expected one of p50, p99", "x".repeat(1 << 20));
        let error = ScenarioError::new("s.yaml", "", Located { line: 1, column: 1, message });
        assert_eq!(error.message.chars().count(), MESSAGE_CHARS + 1);
        assert!(error.message.starts_with("unknown metric `xxx"), "{}", error.message);
        assert!(error.message.ends_with("xxx`; expected one of p50, p99"), "{}", error.message);
        let short = ScenarioError::new("s.yaml", "", Located { line: 1, column: 1, message: "bad".into() });
        assert_eq!(short.message, "bad");
    }

    #[test]
    fn parser_internals_are_said_in_the_user_s_words() {
        let said = |message: &str| in_user_words(message.to_owned());
        assert_eq!(
            said("duplicate mapping key: name, set DuplicateKeyPolicy in Options if acceptable"),
            "`name` is given twice in this mapping; keep one"
        );
        let forms = said("data did not match any variant of untagged enum RawTokenCount");
        assert!(forms.contains("a whole number like `800`") && !forms.contains("RawTokenCount"), "{forms}");
        let unknown = said("data did not match any variant of untagged enum RawSomethingNew");
        assert!(unknown.ends_with("(see docs/scenarios.md)") && !unknown.contains("Raw"), "{unknown}");
        assert_eq!(said("Depth { depth: 65 }"), "the document nests deeper than a scenario can (64 levels)");
        assert_eq!(said("expected mapping start"), "expected mapping start", "the rest as it is");
        let laughs = said("budget breached: Nodes { nodes: 50001 } (defined at line 3, column 9)");
        assert!(laughs.starts_with("the document holds more than 50000 values"), "{laughs}");
        assert!(laughs.ends_with("a few hundred (defined at line 3, column 9)"), "{laughs}");
        let flood = said("budget breached: ScalarBytes { total_scalar_bytes: 16777300 }");
        assert_eq!(
            flood,
            "the document holds more than 16 MiB of text once its aliases (`*name`) are expanded"
        );
        assert!(!said("budget breached: SomethingNew { n: 1 }").contains("SomethingNew"));
    }
}
