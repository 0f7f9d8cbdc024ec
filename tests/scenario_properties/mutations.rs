//! Mutations of a library scenario: the edits a hand, a merge or an attacker makes to a file
//! that was valid. Lines deleted, duplicated, swapped or re-indented; a value replaced by a
//! hostile scalar, nested hundreds deep, anchored and aliased elsewhere, or made into a
//! billion laughs or a flood of aliases to one long string; text inserted anywhere (tabs,
//! unicode, YAML syntax, document markers, NUL, CR); and the result truncated at any byte.

use proptest::{prelude::*, sample::Index};

use super::hostile;

/// One edit of a scenario's text. A "slot" is where a value starts on a line: after `: `,
/// `- `, `[` or `, `.
#[derive(Debug, Clone)]
pub enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    Reindent(Index, i8),
    ReplaceValue(Index, Index, String),
    Nest { line: Index, slot: Index, depth: usize, mapping: bool },
    Alias { anchored: Index, aliased: Index },
    Laughs { line: Index, slot: Index, levels: usize, width: usize },
    Flood { line: Index, slot: Index, aliases: usize, length: usize },
    Insert(Index, String),
}

/// Text worth inserting anywhere: whitespace YAML treats specially, syntax, markers, unicode.
const INSERTS: &[&str] = &[
    "\t",
    " ",
    "\n",
    "\r",
    "\r\n",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\u{85}",
    "é",
    "😀",
    "&a ",
    "*a",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "#",
    ",",
    "\"",
    "'",
    "? ",
    "!!binary ",
    "!!map ",
    "|\n",
    ">\n",
    "\n---\n",
    "\n...\n",
    "%YAML 1.2\n---\n",
    "<<: *a\n",
];

/// A mutation of any kind, with hostile values and nesting past every parser limit.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<Index>;
    prop_oneof![
        3 => index().prop_map(Mutation::DeleteLine),
        2 => index().prop_map(Mutation::DuplicateLine),
        2 => (index(), index()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        2 => (index(), -6i8..=6).prop_map(|(line, by)| Mutation::Reindent(line, by)),
        6 => (index(), index(), hostile::scalar()).prop_map(|(l, s, v)| Mutation::ReplaceValue(l, s, v)),
        1 => (index(), index(), 1usize..300, any::<bool>())
            .prop_map(|(line, slot, depth, mapping)| Mutation::Nest { line, slot, depth, mapping }),
        1 => (index(), index()).prop_map(|(anchored, aliased)| Mutation::Alias { anchored, aliased }),
        1 => (index(), index(), 1usize..10, 1usize..12)
            .prop_map(|(line, slot, levels, width)| Mutation::Laughs { line, slot, levels, width }),
        1 => (index(), index(), 1usize..3_000, 1usize..200_000)
            .prop_map(|(line, slot, aliases, length)| Mutation::Flood { line, slot, aliases, length }),
        3 => (index(), prop_oneof![proptest::sample::select(INSERTS).prop_map(str::to_owned), hostile::scalar()])
            .prop_map(|(at, text)| Mutation::Insert(at, text)),
    ]
}

/// `text` with `mutations` made in order, then cut after `truncate`'s byte if given (which may
/// split a character: the bytes are then not UTF-8).
pub fn apply(text: &str, mutations: &[Mutation], truncate: Option<Index>) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for mutation in mutations {
        mutate(&mut lines, mutation);
    }
    let mut bytes = lines.join("\n").into_bytes();
    if let Some(at) = truncate {
        bytes.truncate(at.index(bytes.len() + 1));
    }
    bytes
}

fn mutate(lines: &mut Vec<String>, mutation: &Mutation) {
    if lines.is_empty() {
        return;
    }
    let pick = |index: &Index| index.index(lines.len());
    match mutation {
        Mutation::DeleteLine(line) => {
            lines.remove(pick(line));
        }
        Mutation::DuplicateLine(line) => {
            let at = pick(line);
            lines.insert(at, lines[at].clone());
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (pick(a), pick(b));
            lines.swap(a, b);
        }
        Mutation::Reindent(line, by) => {
            let at = pick(line);
            let text = &lines[at];
            let kept = text.trim_start_matches(' ');
            let indent = (text.len() - kept.len()).saturating_add_signed(isize::from(*by));
            lines[at] = format!("{}{kept}", " ".repeat(indent));
        }
        Mutation::ReplaceValue(line, slot, value) => {
            replace_value(lines, line, Some(slot), |_| value.clone())
        }
        Mutation::Nest { line, slot, depth, mapping } => replace_value(lines, line, Some(slot), |old| {
            let (open, close) = if *mapping { ("{ k: ", " }") } else { ("[", "]") };
            format!("{}{old}{}", open.repeat(*depth), close.repeat(*depth))
        }),
        Mutation::Alias { anchored, aliased } => {
            replace_value(lines, anchored, None, |old| format!("&m {old}"));
            replace_value(lines, aliased, None, |_| "*m".to_owned());
        }
        Mutation::Laughs { line, slot, levels, width } => {
            replace_value(lines, line, Some(slot), |_| laughs(*levels, *width))
        }
        Mutation::Flood { line, slot, aliases, length } => replace_value(lines, line, Some(slot), |_| {
            format!("[&f {}{}]", hostile::quote(&"x".repeat(*length)), ", *f".repeat(*aliases))
        }),
        Mutation::Insert(at, text) => {
            let mut whole = lines.join("\n");
            let mut at = at.index(whole.len() + 1);
            while !whole.is_char_boundary(at) {
                at -= 1;
            }
            whole.insert_str(at, text);
            *lines = whole.lines().map(str::to_owned).collect();
        }
    }
}

/// A billion laughs in flow style: `levels` anchors, each a list of `width` aliases to the
/// one before.
pub fn laughs(levels: usize, width: usize) -> String {
    let mut entries = vec!["l0: &l0 [lol]".to_owned()];
    for level in 1..levels {
        let aliases = vec![format!("*l{}", level - 1); width].join(", ");
        entries.push(format!("l{level}: &l{level} [{aliases}]"));
    }
    format!("{{ {} }}", entries.join(", "))
}

/// Replaces the value in `slot` (the first if `None`) of `line`, or the whole line's text if it
/// has no slot, with `new(old value)`. A value runs to the next `,`, `}`, `]` or the line's end.
fn replace_value(lines: &mut [String], line: &Index, slot: Option<&Index>, new: impl FnOnce(&str) -> String) {
    let text = &lines[line.index(lines.len())];
    let slots: Vec<usize> = [": ", "- ", "[", ", "]
        .iter()
        .flat_map(|marker| text.match_indices(marker).map(move |(at, m)| at + m.len()))
        .collect();
    let start = match slots.len() {
        0 => text.len() - text.trim_start().len(),
        count => {
            let mut sorted = slots.clone();
            sorted.sort_unstable();
            sorted[slot.map_or(0, |slot| slot.index(count))]
        }
    };
    let end = text[start..].find([',', '}', ']']).map_or(text.len(), |at| start + at);
    let replaced = format!("{}{}{}", &text[..start], new(&text[start..end]), &text[end..]);
    lines[line.index(lines.len())] = replaced;
}
