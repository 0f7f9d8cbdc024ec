//! The tokens of an embeddings request's `input`, read by the interposer as it reads a chat
//! request's messages: counted while parsed, never copied. The mock's rule
//! ([`crate::wire::tokens`]) without a chat message's framing: ⌈chars/4⌉ a string, one a token
//! id; a list sums its items.

use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::wire::tokens::CHARS_PER_TOKEN;

/// The estimated tokens of an `input`.
pub struct InputTokens(pub u64);

impl<'de> Deserialize<'de> for InputTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Count { top: true }).map(InputTokens)
    }
}

/// Counts one input (`top`: the whole `input`, whose list may hold texts or token lists).
struct Count {
    top: bool,
}

/// One item of a top-level list: a text, a token id, or a list of ids.
struct Item(u64);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Count { top: false }).map(Item)
    }
}

impl<'de> Visitor<'de> for Count {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an embeddings input")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u64, E> {
        Ok((text.chars().count() as u64).div_ceil(CHARS_PER_TOKEN))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<u64, E> {
        Ok(1)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut tokens = 0;
        if self.top {
            while let Some(Item(item)) = seq.next_element()? {
                tokens += item;
            }
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {
                tokens += 1;
            }
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Option<u64> {
        serde_json::from_str::<InputTokens>(input).ok().map(|t| t.0)
    }

    #[test]
    fn each_shape_counts_as_the_mock_counts_it() {
        assert_eq!(tokens(r#""abcdefghi""#), Some(3));
        assert_eq!(tokens(r#"["abcd", "abcdefgh"]"#), Some(3));
        assert_eq!(tokens("[1, 2, 3, 4, 5]"), Some(5));
        assert_eq!(tokens("[[1, 2], [3, 4, 5]]"), Some(5));
        assert_eq!(tokens("{}"), None, "not an input");
    }
}
