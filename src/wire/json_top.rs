//! One key of a JSON object's top level, found without parsing the rest: strings are skipped with
//! `memchr`, containers by counting their brackets, and nothing is decoded. An answer's `usage`
//! is read this way on every attempt the interposer forwards and every answer the generator
//! receives: deserializing the whole answer to reach it cost twice as many instructions
//! (`benches/proxy_instructions.sh`).
//!
//! The scan checks the document's structure — one object, brackets balanced outside strings,
//! nothing after it but whitespace — so a body cut short is told from a whole one; it does not
//! check each token (a balanced body with a malformed number inside passes). Keys are compared
//! as raw bytes: a key spelled with escapes (`"us\u0061ge"`) is not found.

use memchr::memchr2;

/// The document is not one whole JSON object (cut short, or not an object at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

/// The raw value of `key` at the top level of the JSON object `document` (the first, if the key
/// repeats), `None` when the object has no such key.
pub fn value_of<'a>(document: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, NotAnObject> {
    let mut found = None;
    entries(document, |name, value| {
        if name == key && found.is_none() {
            found = Some(value);
        }
    })?;
    Ok(found)
}

/// Calls `visit` with the raw key (without its quotes) and raw value of each entry at the top
/// level of the JSON object `document`, in order; an error once the document turns out not to
/// be one whole object (entries before that point were visited).
pub fn entries<'a>(document: &'a [u8], mut visit: impl FnMut(&'a [u8], &'a [u8])) -> Result<(), NotAnObject> {
    let mut at = skip_whitespace(document, 0);
    if document.get(at) != Some(&b'{') {
        return Err(NotAnObject);
    }
    let mut depth = 0usize;
    // At depth 1, the next string is a key (after `{` or `,`), not a value.
    let mut key_next = false;
    // The key whose value is being scanned, and where that value began, until its end (`,` or
    // `}` at depth 1).
    let mut entry: Option<(&[u8], usize)> = None;
    let mut end_entry = |entry: &mut Option<(&'a [u8], usize)>, end: usize| {
        if let Some((key, start)) = entry.take() {
            visit(key, document[start..end].trim_ascii_end());
        }
    };
    while let Some(&byte) = document.get(at) {
        match byte {
            b'"' => {
                let end = string_end(document, at + 1).ok_or(NotAnObject)?;
                if depth == 1 && key_next {
                    key_next = false;
                    let colon = skip_whitespace(document, end + 1);
                    if document.get(colon) != Some(&b':') {
                        return Err(NotAnObject);
                    }
                    entry = Some((&document[at + 1..end], skip_whitespace(document, colon + 1)));
                    at = colon + 1;
                    continue;
                }
                at = end + 1;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                key_next = depth == 1;
            }
            b',' if depth == 1 => {
                key_next = true;
                end_entry(&mut entry, at);
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or(NotAnObject)?;
                if depth == 0 {
                    if skip_whitespace(document, at + 1) != document.len() {
                        return Err(NotAnObject);
                    }
                    end_entry(&mut entry, at);
                    return Ok(());
                }
            }
            _ => {}
        }
        at += 1;
    }
    Err(NotAnObject)
}

/// The index of the quote closing the string whose content starts at `from`.
fn string_end(document: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let found = from + memchr2(b'"', b'\\', document.get(from..)?)?;
        match document[found] {
            // An escape: the next byte is part of it, whatever it is (`\"`, `\\`, `\u…`).
            b'\\' => from = found + 2,
            _ => return Some(found),
        }
    }
}

fn skip_whitespace(document: &[u8], mut at: usize) -> usize {
    while document.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(document: &str) -> Result<Option<&str>, NotAnObject> {
        value_of(document.as_bytes(), b"usage").map(|value| value.map(|v| std::str::from_utf8(v).unwrap()))
    }

    #[test]
    fn the_value_of_a_top_level_key_whatever_its_kind() {
        assert_eq!(
            usage(r#"{"id":"x","usage":{"a":1,"b":[1,2]},"z":null}"#),
            Ok(Some(r#"{"a":1,"b":[1,2]}"#))
        );
        assert_eq!(usage(r#" { "usage" : 12 } "#), Ok(Some("12")));
        assert_eq!(usage(r#"{"usage":null}"#), Ok(Some("null")));
        assert_eq!(usage(r#"{"usage":"a,}b"}"#), Ok(Some(r#""a,}b""#)));
        assert_eq!(usage(r#"{"usage":1,"usage":2}"#), Ok(Some("1")), "the first of a repeated key");
        assert_eq!(usage(r#"{"other":1}"#), Ok(None));
        assert_eq!(usage("{}"), Ok(None));
    }

    #[test]
    fn every_top_level_entry_in_order() {
        let mut seen = Vec::new();
        let document = br#"{"a": 1 ,"b":{"c":[1,{"d":2}]},"e":"f","g":[]}"#;
        entries(document, |key, value| seen.push((key, value))).unwrap();
        let expected: [(&[u8], &[u8]); 4] =
            [(b"a", b"1"), (b"b", br#"{"c":[1,{"d":2}]}"#), (b"e", br#""f""#), (b"g", b"[]")];
        assert_eq!(seen, expected);
    }

    #[test]
    fn only_the_top_level_counts_and_strings_are_text() {
        assert_eq!(usage(r#"{"meta":{"usage":1},"list":[{"usage":2}]}"#), Ok(None));
        assert_eq!(usage(r#"{"text":"\"usage\":3 {[","usage":4}"#), Ok(Some("4")));
        assert_eq!(usage(r#"{"a":"\\","usage":5}"#), Ok(Some("5")), "an escaped backslash ends no string");
        assert_eq!(usage(r#"{"usage":[{"x":","}],"b":1}"#), Ok(Some(r#"[{"x":","}]"#)));
    }

    /// A string of any length ends at its closing quote, wherever an escaped quote sits in it.
    #[test]
    fn strings_long_and_short_end_at_their_closing_quote_wherever_it_is() {
        for length in [0, 1, 15, 16, 17, 40, 200] {
            let plain = "x".repeat(length);
            let document = format!(r#"{{"text":"{plain}","usage":{length}}}"#);
            assert_eq!(usage(&document), Ok(Some(length.to_string().as_str())), "{document}");
            for escape_at in [0, 14, 15, 16, 17, 30] {
                let (before, after) = ("y".repeat(escape_at), "z".repeat(length));
                let document = format!(r#"{{"text":"{before}"usage":0,{after}","usage":{length}}}"#);
                assert_eq!(usage(&document), Ok(Some(length.to_string().as_str())), "{document}");
            }
        }
        assert_eq!(usage(&format!(r#"{{"text":"{}"#, "x".repeat(40))), Err(NotAnObject));
    }

    #[test]
    fn a_body_cut_short_or_not_an_object_is_told_apart() {
        for broken in [
            r#"{"usage":{"a":1}"#,
            r#"{"usage":{"a":1},"text":"unfinish"#,
            r#"{"text":"ends in an escape\"#,
            r#"{"a":1}}"#,
            r#"{"a":1} trailing"#,
            r#"[{"usage":1}]"#,
            r#"{"usage" 1}"#,
            "",
            "null",
        ] {
            assert_eq!(usage(broken), Err(NotAnObject), "{broken}");
        }
    }
}
