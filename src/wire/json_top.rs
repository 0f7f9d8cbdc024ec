//! One key of a JSON object's top level, found without parsing the rest: nothing is decoded, and
//! the document is read 64 bytes at a time ([`Tokens`]), each block's quotes, backslashes,
//! brackets and commas found at once with 16-byte vector compares (the `wide` crate: SSE2 on
//! x86-64, NEON on aarch64, plain code elsewhere) and its strings worked out with bit arithmetic,
//! so only a bracket or comma outside strings costs a step of its own.
//! An answer's `usage` is read this way on every attempt the interposer forwards and every answer
//! the generator receives. Instructions for the mock's 573-byte answer (`usage::of_answer`, under
//! callgrind): 9,875 deserializing it whole, 7,340 skipping its strings with `memchr` and the rest
//! byte by byte, 5,155 by blocks.
//!
//! The scan checks the document's structure — one object, brackets balanced outside strings,
//! nothing after it but whitespace — so a body cut short is told from a whole one; it does not
//! check each token (a balanced body with a malformed number inside passes). Keys are compared
//! as raw bytes: a key spelled with escapes (`"us\u0061ge"`) is not found.

use wide::u8x16;

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
/// object that is the value of the top-level key `open` (the first, if the key repeats; none if
/// its value is not an object). An error once the document turns out not to be one whole object
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
                    top = tokens.key_after(at)?;
                } else if depth == 2
                    && !opened
                    && document[at] == b'{'
                    && top.is_some_and(|(key, start)| start == at && Some(key) == open)
                {
                    (inside, opened) = (true, true);
                    inner = tokens.key_after(at)?;
                }
            }
            Token::Comma(at) => {
                if depth == 1 {
                    end(Level::Top, &mut top, at);
                    top = tokens.key_after(at)?;
                } else if depth == 2 && inside {
                    end(Level::Opened, &mut inner, at);
                    inner = tokens.key_after(at)?;
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

/// A bracket or comma outside strings, with its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `{` or `[`.
    Open(usize),
    /// `}` or `]`.
    Close(usize),
    Comma(usize),
}

/// Bytes read at once: a block's marks fit in one `u64`, a bit per byte.
const BLOCK: usize = 64;

/// The [`Token`]s of a document in order, strings skipped whole. Each block's quotes, escapes and
/// strings are worked out with bit arithmetic on its marks ([`Marks`]), so a step is taken only
/// for a bracket or comma outside strings, never for a string's quotes or its text.
struct Tokens<'a> {
    document: &'a [u8],
    /// Where the current block starts.
    block: usize,
    /// The current block's brackets and commas outside strings, not yet returned.
    structure: u64,
    /// The current block's quotes that open or close a string (not escaped).
    quotes: u64,
    /// All ones when the block before ended inside a string.
    inside_before: u64,
    /// The block before ended with a backslash that escapes this block's first byte.
    escape_before: bool,
}

impl<'a> Tokens<'a> {
    fn new(document: &'a [u8]) -> Self {
        let mut tokens =
            Tokens { document, block: 0, structure: 0, quotes: 0, inside_before: 0, escape_before: false };
        tokens.read_block();
        tokens
    }

    /// Works out the current block's strings and structure from its marks.
    fn read_block(&mut self) {
        let marks = Marks::of(self.document, self.block);
        let escaped = self.escaped(marks.backslashes);
        self.quotes = marks.quotes & !escaped;
        // Bit i of the running XOR of the quotes is set from an opening quote up to (not
        // including) its closing one: inside a string.
        let inside = prefix_xor(self.quotes) ^ self.inside_before;
        self.inside_before = if inside >> 63 == 1 { u64::MAX } else { 0 };
        self.structure = marks.structure & !inside;
    }

    /// The bytes of the current block escaped by a backslash: the byte after each backslash
    /// that is not itself escaped. Blocks without a backslash, nearly all, take no step here.
    fn escaped(&mut self, backslashes: u64) -> u64 {
        let mut escaped = u64::from(std::mem::take(&mut self.escape_before));
        let mut escaping = backslashes & !escaped;
        while escaping != 0 {
            let at = escaping.trailing_zeros();
            if at == 63 {
                self.escape_before = true;
            } else {
                escaped |= 1 << (at + 1);
            }
            escaping &= escaping - 1;
            escaping &= !escaped;
        }
        escaped
    }

    /// The key after the object's `{` or a `,` at its level, at `at` (if any: `{}` has none),
    /// without its quotes, and where its value starts.
    #[inline(always)]
    fn key_after(&self, at: usize) -> Result<Option<(&'a [u8], usize)>, NotAnObject> {
        let document = self.document;
        let open = skip_whitespace(document, at + 1);
        if document.get(open) != Some(&b'"') {
            return Ok(None);
        }
        let close = self.string_close(open).ok_or(NotAnObject)?;
        let colon = skip_whitespace(document, close + 1);
        if document.get(colon) != Some(&b':') {
            return Err(NotAnObject);
        }
        Ok(Some((&document[open + 1..close], skip_whitespace(document, colon + 1))))
    }

    /// The index of the quote closing the string opened by the quote at `open`.
    #[inline(always)]
    fn string_close(&self, open: usize) -> Option<usize> {
        let offset = open.checked_sub(self.block).filter(|offset| *offset < BLOCK);
        match offset.map(|offset| self.quotes >> offset >> 1) {
            Some(after) if after != 0 => Some(open + 1 + after.trailing_zeros() as usize),
            // The string runs past this block (or starts in the next one): read it byte by byte.
            _ => string_end(self.document, open + 1),
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    // Inlined into the caller's loop: called once per token, a call's set-up was most of a step.
    #[inline(always)]
    fn next(&mut self) -> Option<Token> {
        while self.structure == 0 {
            self.block += BLOCK;
            if self.block >= self.document.len() {
                return None;
            }
            self.read_block();
        }
        let at = self.block + self.structure.trailing_zeros() as usize;
        self.structure &= self.structure - 1;
        Some(match self.document.get(at) {
            Some(b'{' | b'[') => Token::Open(at),
            Some(b'}' | b']') => Token::Close(at),
            _ => Token::Comma(at),
        })
    }
}

/// A block's marks, one bit per byte (bit 0 for its first byte).
struct Marks {
    quotes: u64,
    backslashes: u64,
    /// `{`, `}`, `[`, `]` and `,`, inside strings or not.
    structure: u64,
}

impl Marks {
    /// The marks of the block at `start`; a block past the document's end is read as if padded
    /// with spaces.
    #[inline(never)]
    fn of(document: &[u8], start: usize) -> Marks {
        let mut padded = [b' '; BLOCK];
        let block: &[u8; BLOCK] = match document.get(start..start + BLOCK) {
            Some(whole) => whole.try_into().unwrap_or(&padded),
            None => {
                let rest = document.get(start..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let mut marks = Marks { quotes: 0, backslashes: 0, structure: 0 };
        for (lane, bytes) in block.chunks_exact(16).enumerate() {
            let bytes = u8x16::new(bytes.try_into().unwrap_or([b' '; 16]));
            // `[` and `{`, `]` and `}` differ only in the bit 0x20.
            let folded = bytes | u8x16::splat(0x20);
            let structure = bytes.simd_eq(u8x16::splat(b','))
                | folded.simd_eq(u8x16::splat(b'{'))
                | folded.simd_eq(u8x16::splat(b'}'));
            let shift = lane * 16;
            marks.quotes |= u64::from(bytes.simd_eq(u8x16::splat(b'"')).to_bitmask()) << shift;
            marks.backslashes |= u64::from(bytes.simd_eq(u8x16::splat(b'\\')).to_bitmask()) << shift;
            marks.structure |= u64::from(structure.to_bitmask()) << shift;
        }
        marks
    }
}

/// Bit i of the result is the XOR of bits 0 to i of `bits`.
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// The index of the quote closing the string whose content starts at `from`, read byte by byte.
#[inline(never)]
fn string_end(document: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let found = from + memchr::memchr2(b'"', b'\\', document.get(from..)?)?;
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
