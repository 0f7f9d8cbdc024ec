//! A JSON document's structure read 64 bytes at a time, for [`super::json_top`]: each block's
//! quotes, backslashes, brackets and commas are found at once with 16-byte vector compares (the
//! `wide` crate: SSE2 on x86-64, NEON on aarch64, plain code elsewhere), escapes and strings are
//! worked out with bit arithmetic on those marks (a running XOR of the quotes is set inside
//! strings), and only a bracket or comma outside strings is handed out as a [`Token`]. Nothing
//! is decoded or checked beyond that.

use wide::u8x16;

/// A bracket or comma outside strings, with its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
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
pub struct Tokens<'a> {
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
    pub fn new(document: &'a [u8]) -> Self {
        let mut tokens =
            Tokens { document, block: 0, structure: 0, quotes: 0, inside_before: 0, escape_before: false };
        tokens.read_block();
        tokens
    }

    /// The document read.
    pub fn document(&self) -> &'a [u8] {
        self.document
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
        // An escaped byte is never a token (outside a string a backslash is not JSON; it is
        // read as an escape there too).
        self.structure = marks.structure & !inside & !escaped;
    }

    /// Inside a string that filled the last block: moves to the block holding the string's
    /// next quote or backslash (or past the end), for `memchr2` skips a long text several times
    /// faster than the blocks are read (`usage` of a 4 KB answer under criterion: 834 → 372–405 ns).
    /// The blocks skipped hold neither, so they change nothing but where the reading stands.
    #[inline(never)]
    fn skip_string_blocks(&mut self) {
        let rest = self.document.get(self.block..).unwrap_or_default();
        let whole_blocks = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len()) / BLOCK * BLOCK;
        if whole_blocks > 0 {
            self.block += whole_blocks;
            // The byte a backslash at the end of the last block read escaped was skipped too.
            self.escape_before = false;
        }
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

    /// The index of the quote closing the string opened by the quote at `open`.
    #[inline(always)]
    pub fn string_close(&self, open: usize) -> Option<usize> {
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
            // A whole block read inside one string: a long text, skipped faster than read.
            if self.inside_before != 0 && self.quotes == 0 {
                self.skip_string_blocks();
            }
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

/// The index of the quote closing the string whose content starts at `from`, found with `memchr2`
/// from escape to escape, where the current block's marks do not reach.
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

/// The index of the first byte at or after `at` that is not JSON whitespace (or the length).
pub fn skip_whitespace(document: &[u8], mut at: usize) -> usize {
    while document.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use rand::{rngs::SmallRng, Rng, SeedableRng};

    use super::*;

    /// The same reading byte by byte: a backslash escapes the byte after it, an unescaped quote
    /// opens or closes a string, and a bracket or comma outside strings is a token. Also the
    /// unescaped quotes, for `string_close`.
    fn byte_by_byte(document: &[u8]) -> (Vec<Token>, Vec<usize>) {
        let (mut tokens, mut quotes) = (Vec::new(), Vec::new());
        let (mut inside, mut escaped) = (false, false);
        for (at, byte) in document.iter().enumerate() {
            if std::mem::take(&mut escaped) {
                continue;
            }
            match byte {
                b'\\' => escaped = true,
                b'"' => {
                    inside = !inside;
                    quotes.push(at);
                }
                b'{' | b'[' if !inside => tokens.push(Token::Open(at)),
                b'}' | b']' if !inside => tokens.push(Token::Close(at)),
                b',' if !inside => tokens.push(Token::Comma(at)),
                _ => {}
            }
        }
        (tokens, quotes)
    }

    /// A backslash that ends a block inside a long string escapes a byte of the block after it,
    /// which is skipped: it must not escape the quote that begins the block after that.
    #[test]
    fn an_escape_at_a_block_end_stays_with_the_skipped_block() {
        let mut document = br#"{"a":""#.to_vec();
        document.resize(2 * BLOCK - 1, b'x');
        document.push(b'\\'); // the last byte of the second block, which has no quote
        document.resize(3 * BLOCK, b'x'); // its escaped byte, and a block skipped whole
        document.extend_from_slice(br#""}"#); // the string's end begins the fourth block
        let tokens: Vec<Token> = Tokens::new(&document).collect();
        assert_eq!(tokens, [Token::Open(0), Token::Close(3 * BLOCK + 1)]);
    }

    /// On random bytes of the characters that matter, runs of backslashes and long plain texts
    /// included, across block edges: the same tokens as byte by byte, and each string's closing quote found from
    /// wherever the reading stands.
    #[test]
    fn blocks_read_as_byte_by_byte_does() {
        let alphabet = b"\"\\{}[],: ax";
        let mut rng = SmallRng::seed_from_u64(3);
        for _ in 0..2_000 {
            let mut document = Vec::new();
            while document.len() < 300 && !rng.random_bool(0.01) {
                if rng.random_bool(0.03) {
                    // A long plain text: a string that fills blocks, which are skipped.
                    document.extend(std::iter::repeat_n(b'x', rng.random_range(50..200)));
                } else {
                    document.push(alphabet[rng.random_range(0..alphabet.len())]);
                }
            }
            let (expected, quotes) = byte_by_byte(&document);
            let mut tokens = Tokens::new(&document);
            let mut seen = Vec::new();
            while let Some(token) = tokens.next() {
                seen.push(token);
                let at = match token {
                    Token::Open(at) | Token::Close(at) | Token::Comma(at) => at,
                };
                // The next string opening after this token, if any, as a key would be read.
                let next = quotes.iter().position(|quote| *quote > at);
                if let Some(index) = next.filter(|index| index % 2 == 0) {
                    let open = quotes[index];
                    let close = quotes.get(index + 1).copied();
                    assert_eq!(tokens.string_close(open), close, "{}", String::from_utf8_lossy(&document));
                }
            }
            assert_eq!(seen, expected, "{}", String::from_utf8_lossy(&document));
        }
    }
}
