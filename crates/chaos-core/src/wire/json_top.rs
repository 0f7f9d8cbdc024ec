//! The entries of a JSON object's top level, and of one object under it (or the elements of an
//! array), found without parsing the rest: nothing is decoded, and the document is read 64 bytes at
//! a time ([`Tokens`]), each block's quotes, backslashes, brackets and commas found at once with
//! 16-byte vector compares (the `wide` crate: SSE2 on x86-64, NEON on aarch64, plain code
//! elsewhere) and its strings worked out with bit arithmetic, so only a bracket or comma outside
//! strings costs a step. An answer's `usage` is read this way on every attempt the interposer
//! forwards and every answer the generator receives. Instructions for the mock's 573-byte answer
//! (`usage::of_answer`, under callgrind): 9,875 deserializing it whole, 7,340 skipping its strings
//! with `memchr` and the rest byte by byte, 5,155 by blocks, 4,496 with `usage` opened in the same
//! pass ([`scan`]).
//!
//! The scan checks the document's structure — one object, brackets balanced outside strings,
//! nothing after it but whitespace — so a body cut short is told from a whole one; it does not
//! check each token (a balanced body with a malformed number inside passes). Keys are compared
//! as raw bytes: a key spelled with escapes (`"us\u0061ge"`) is not found.

use super::json_tokens::{skip_whitespace, Token, Tokens};

/// The document is not one whole JSON object (cut short, or not an object at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnObject;

/// Where an entry [`scan`] visits sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The document's top level.
    Top,
    /// Inside the object that is the value of the key [`scan`] was asked to open.
    Opened,
}

/// Calls `visit` with the raw key (without its quotes) and raw value of each entry at the top
/// level of the JSON object `document`, in order, and, in the same pass, with each entry of the
/// object that is the value of the top-level key `open` (if the key repeats, of the first of its
/// values that is an object; none if none is). An error once the document turns out not to be one whole object
/// (entries before that point were visited). Reading an answer's `usage` this way scans its
/// bytes once, not twice.
pub fn scan<'a>(
    document: &'a [u8],
    open: Option<&[u8]>,
    mut visit: impl FnMut(Level, &'a [u8], &'a [u8]),
) -> Result<(), NotAnObject> {
    if document.get(skip_whitespace(document, 0)) != Some(&b'{') {
        return Err(NotAnObject);
    }
    let mut depth = 0usize;
    // The entry being scanned at the top level, and inside the opened object: its key and where
    // its value began, until its end (a `,` or the closing bracket at its level).
    let mut top: Option<(&[u8], usize)> = None;
    let mut inner: Option<(&[u8], usize)> = None;
    // Inside the opened object; it was opened already (only the first is).
    let (mut inside, mut opened) = (false, false);
    let mut end = |level: Level, entry: &mut Option<(&'a [u8], usize)>, at: usize| {
        if let Some((key, start)) = entry.take() {
            visit(level, key, document[start..at].trim_ascii_end());
        }
    };
    let mut tokens = Tokens::new(document);
    while let Some(token) = tokens.next() {
        match token {
            Token::Open(at) => {
                depth += 1;
                if depth == 1 {
                    top = key_after(&tokens, at)?;
                } else if depth == 2
                    && !opened
                    && document.get(at) == Some(&b'{')
                    && top.is_some_and(|(key, start)| start == at && Some(key) == open)
                {
                    (inside, opened) = (true, true);
                    inner = key_after(&tokens, at)?;
                }
            }
            Token::Comma(at) => {
                if depth == 1 {
                    end(Level::Top, &mut top, at);
                    top = key_after(&tokens, at)?;
                } else if depth == 2 && inside {
                    end(Level::Opened, &mut inner, at);
                    inner = key_after(&tokens, at)?;
                }
            }
            Token::Close(at) => {
                depth = depth.checked_sub(1).ok_or(NotAnObject)?;
                if depth == 1 && inside {
                    inside = false;
                    end(Level::Opened, &mut inner, at);
                } else if depth == 0 {
                    if skip_whitespace(document, at + 1) != document.len() {
                        return Err(NotAnObject);
                    }
                    end(Level::Top, &mut top, at);
                    return Ok(());
                }
            }
        }
    }
    // The document ended inside a string or a container: cut short.
    Err(NotAnObject)
}

/// Calls `visit` with each raw element of the JSON array `array`, in order (an OpenAI chunk's
/// `choices`), nothing inside them decoded; an error once `array` turns out not to be one whole
/// array (elements before that point were visited).
pub fn elements<'a>(array: &'a [u8], mut visit: impl FnMut(&'a [u8])) -> Result<(), NotAnObject> {
    if array.get(skip_whitespace(array, 0)) != Some(&b'[') {
        return Err(NotAnObject);
    }
    let mut depth = 0usize;
    // Where the element being scanned starts.
    let mut start = 0;
    let mut end = |start: usize, at: usize| {
        let element = array[start..at].trim_ascii();
        if !element.is_empty() {
            visit(element);
        }
    };
    for token in Tokens::new(array) {
        match token {
            Token::Open(at) => {
                depth += 1;
                if depth == 1 {
                    start = at + 1;
                }
            }
            Token::Comma(at) if depth == 1 => {
                end(start, at);
                start = at + 1;
            }
            Token::Comma(_) => {}
            Token::Close(at) => {
                depth = depth.checked_sub(1).ok_or(NotAnObject)?;
                if depth == 0 {
                    if skip_whitespace(array, at + 1) != array.len() {
                        return Err(NotAnObject);
                    }
                    end(start, at);
                    return Ok(());
                }
            }
        }
    }
    Err(NotAnObject)
}

/// The key after the object's `{` or a `,` at its level, at `at` (if any: `{}` has none),
/// without its quotes, and where its value starts.
#[inline(always)]
fn key_after<'a>(tokens: &Tokens<'a>, at: usize) -> Result<Option<(&'a [u8], usize)>, NotAnObject> {
    let document = tokens.document();
    let open = skip_whitespace(document, at + 1);
    if document.get(open) != Some(&b'"') {
        return Ok(None);
    }
    let close = tokens.string_close(open).ok_or(NotAnObject)?;
    let colon = skip_whitespace(document, close + 1);
    if document.get(colon) != Some(&b':') {
        return Err(NotAnObject);
    }
    Ok(Some((&document[open + 1..close], skip_whitespace(document, colon + 1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls `visit` with the raw key (without its quotes) and raw value of each entry at the top
    /// level of the JSON object `document`, in order; an error once the document turns out not to
    /// be one whole object (entries before that point were visited).
    fn entries<'a>(document: &'a [u8], mut visit: impl FnMut(&'a [u8], &'a [u8])) -> Result<(), NotAnObject> {
        scan(document, None, |_, key, value| visit(key, value))
    }

    /// The raw value of `key` at the top level of the JSON object `document` (the first, if the key
    /// repeats), `None` when the object has no such key.
    fn value_of<'a>(document: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, NotAnObject> {
        let mut found = None;
        entries(document, |name, value| {
            if name == key && found.is_none() {
                found = Some(value);
            }
        })?;
        Ok(found)
    }

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
    fn an_arrays_elements_in_order_whatever_they_hold() {
        let read = |array: &str| {
            let mut seen = Vec::new();
            let result = elements(array.as_bytes(), |element| {
                seen.push(String::from_utf8_lossy(element).into_owned())
            });
            (result, seen)
        };
        let (result, seen) = read(r#" [ {"a":[1,2],"b":"],"} , 3,"x,]" ,[[]] ] "#);
        assert_eq!(result, Ok(()));
        assert_eq!(seen, [r#"{"a":[1,2],"b":"],"}"#, "3", r#""x,]""#, "[[]]"]);
        assert_eq!(read("[]"), (Ok(()), vec![]));
        assert_eq!(read(r#"[{"a":1},{"b":"#).0, Err(NotAnObject), "cut short");
        assert_eq!(read(r#"{"a":1}"#).0, Err(NotAnObject), "not an array");
        assert_eq!(read("[1]]").0, Err(NotAnObject), "something after it");
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
    fn the_opened_object_is_read_in_the_same_pass_and_only_it() {
        let read = |document: &str| {
            let mut seen = Vec::new();
            let result = scan(document.as_bytes(), Some(b"usage"), |level, key, value| {
                seen.push((
                    level,
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(value).into_owned(),
                ))
            });
            (result, seen)
        };
        let owned = |level, key: &str, value: &str| (level, key.to_owned(), value.to_owned());
        let (result, seen) =
            read(r#"{"meta":{"usage":{"x":1}},"usage":{"a":{"b":1},"c":[2,3]},"usage":{"d":4}}"#);
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen,
            [
                owned(Level::Top, "meta", r#"{"usage":{"x":1}}"#),
                owned(Level::Opened, "a", r#"{"b":1}"#),
                owned(Level::Opened, "c", "[2,3]"),
                owned(Level::Top, "usage", r#"{"a":{"b":1},"c":[2,3]}"#),
                owned(Level::Top, "usage", r#"{"d":4}"#),
            ],
            "only the first top-level usage is opened, nothing nested deeper is"
        );
        let (result, seen) = read(r#"{"usage":[{"a":1},"b","c"],"b":{}}"#);
        assert_eq!(result, Ok(()));
        assert!(seen.iter().all(|(level, ..)| *level == Level::Top), "an array is not opened: {seen:?}");
        let (result, seen) = read(r#"{ "usage" : { "a" : 1 } }"#);
        assert_eq!(
            (result, seen),
            (Ok(()), vec![owned(Level::Opened, "a", "1"), owned(Level::Top, "usage", r#"{ "a" : 1 }"#)])
        );
        assert_eq!(read(r#"{"usage":{"a":1}"#).0, Err(NotAnObject), "cut short");
    }

    /// An escape, a quote or a bracket on either side of a block's edge (bytes 63 and 64) is read
    /// as it would be anywhere else.
    #[test]
    fn what_straddles_a_block_edge_is_read_as_anywhere_else() {
        for pad in 40..80 {
            let filler = "x".repeat(pad);
            for text in [r#"a\"b"#, r#"a\\"#, r#"\\\""#, "{[,]}", r#"\u0022"#] {
                let document = format!(r#"{{"f":"{filler}","text":"{text}","usage":{{"n":[1,2]}}}}"#);
                assert_eq!(usage(&document), Ok(Some(r#"{"n":[1,2]}"#)), "{document}");
            }
            let document = format!(r#"{{"{filler}":[[{{}}]],"usage":1}}"#);
            assert_eq!(usage(&document), Ok(Some("1")), "{document}");
        }
    }

    /// Against serde_json on random documents: every top-level entry, with the value serde_json
    /// reads; and no prefix of a document is taken for a whole one.
    #[test]
    fn random_documents_read_as_serde_json_reads_them_and_no_prefix_passes() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        use serde_json::Value;
        fn text(rng: &mut SmallRng) -> String {
            let alphabet = ['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', 'é', '\u{1}'];
            (0..rng.random_range(0..90)).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect()
        }
        fn value(rng: &mut SmallRng, depth: u32) -> Value {
            match rng.random_range(0..if depth > 3 { 4 } else { 6 }) {
                0 => Value::Null,
                1 => Value::from(rng.random_range(0..100_000u64)),
                2 | 3 => Value::from(text(rng)),
                4 => Value::Array((0..rng.random_range(0..4)).map(|_| value(rng, depth + 1)).collect()),
                _ => Value::Object(
                    (0..rng.random_range(0..4)).map(|_| (text(rng), value(rng, depth + 1))).collect(),
                ),
            }
        }
        let mut rng = SmallRng::seed_from_u64(11);
        for _ in 0..300 {
            let fields: serde_json::Map<String, Value> =
                (0..rng.random_range(0..6)).map(|_| (text(&mut rng), value(&mut rng, 0))).collect();
            let document = if rng.random_bool(0.5) {
                serde_json::to_vec(&fields).unwrap()
            } else {
                serde_json::to_vec_pretty(&fields).unwrap()
            };
            let parse = |key: &[u8], value: &[u8]| -> (String, Value) {
                let key = serde_json::from_slice(&[b"\"", key, b"\""].concat()).unwrap();
                (key, serde_json::from_slice(value).unwrap())
            };
            let mut seen = Vec::new();
            let mut first_object = None;
            entries(&document, |key, value| {
                seen.push(parse(key, value));
                if first_object.is_none() && value.starts_with(b"{") {
                    first_object = Some(key);
                }
            })
            .unwrap();
            let expected: Vec<(String, Value)> = fields.clone().into_iter().collect();
            assert_eq!(seen, expected, "{}", String::from_utf8_lossy(&document));
            // The first entry whose value is an object, opened: its entries as serde_json reads them.
            if let Some(key) = first_object {
                let mut opened = Vec::new();
                scan(&document, Some(key), |level, key, value| {
                    if level == Level::Opened {
                        opened.push(parse(key, value));
                    }
                })
                .unwrap();
                let object = &fields[&parse(key, b"null").0];
                let expected: Vec<(String, Value)> =
                    object.as_object().unwrap().clone().into_iter().collect();
                assert_eq!(opened, expected, "{}", String::from_utf8_lossy(&document));
            }
            for cut in 0..document.len() {
                assert_eq!(entries(&document[..cut], |_, _| {}), Err(NotAnObject), "cut at {cut}");
            }
        }
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
