//! Hostile scalars, as YAML text: huge, negative and non-finite numbers, units out of range,
//! empty and very long strings, tabs, unicode that looks like digits or turns text around,
//! and YAML's own special words. Every generator of the property draws its values here.

use proptest::prelude::*;

/// Values a scenario's numbers, durations, rates and percentages must refuse or bound.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "-1e9",
    "1e308",
    "1e309",
    "-1e309",
    "4294967296",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "100000000",
    "0.0000001",
    "1e-400",
    "0x10",
    "0o17",
    "1_000",
    "+5",
    ".5",
    "5.",
    ".nan",
    "NaN",
    ".inf",
    "-.inf",
    "inf",
    "1:00",
];

/// Human units at and past their edges.
const UNITS: &[&str] = &[
    "0s",
    "-5s",
    "1e400s",
    "99999999d",
    "18446744073709551616ms",
    "365d",
    "366d",
    "0ms",
    "1ns",
    "NaNs",
    "infs",
    "5 s",
    "5S",
    "50%",
    "101%",
    "-1%",
    "1e-400%",
    "100%",
    "0%",
    "NaN%",
    "20/s",
    "0/s",
    "-1/s",
    "1e300/s",
    "20/ms",
    "0.15/M",
    "-0.15/M",
    "1e309/M",
    "poisson",
    "sdk",
    "openai",
];

/// YAML's special words and syntax that reads as something else.
const SPECIALS: &[&str] = &[
    "~",
    "null",
    "''",
    "\"\"",
    "yes",
    "no",
    "on",
    "true",
    "false",
    "!!binary aGk=",
    "!!str 5",
    "!!int x",
    "!!float 1",
    "!custom 1",
    "[]",
    "{}",
    "[,]",
    "{ : }",
    "- -",
    "? x",
    "|",
    ">-",
    "\"\\u0000\"",
    "\"\\x85\"",
    "'''",
    "\\",
    "&",
    "*",
    "*undefined",
    "<<: *x",
    "%",
    "@",
    "`",
];

/// Unicode that looks like ASCII, turns text around, or is invisible.
const UNICODE: &[&str] = &[
    "é",
    "\u{202e}gpt",
    "\u{feff}",
    "\u{200b}",
    "５s",
    "١٢٣",
    "𝟘",
    "\u{85}",
    "\u{2028}",
    "😀",
    "\u{0301}",
    "Ǆ",
    "ﬁ",
    "İ",
    "\u{fffd}",
];

/// One hostile scalar as it is written in YAML: from the lists, a long run of one character,
/// a number with hundreds of digits, or any printable text, plain or double-quoted.
pub fn scalar() -> impl Strategy<Value = String> {
    let listed = prop_oneof![
        proptest::sample::select(NUMBERS),
        proptest::sample::select(UNITS),
        proptest::sample::select(SPECIALS),
        proptest::sample::select(UNICODE),
    ]
    .prop_map(str::to_owned);
    let long = (proptest::sample::select(&["a", "9", " ", "\t", "é", "{{", "%"][..]), 1usize..100_000)
        .prop_map(|(piece, count)| piece.repeat(count));
    let digits = (1usize..400, proptest::sample::select(&["", "ms", "s", "%", "/s"][..]))
        .prop_map(|(zeros, unit)| format!("1{}{unit}", "0".repeat(zeros)));
    let text = prop_oneof!["[ -~]{0,24}", "\\PC{0,12}", "[\\t \\n]{0,4}"];
    let written = prop_oneof![5 => listed, 1 => long, 1 => digits, 2 => text];
    (written, any::<bool>()).prop_map(|(text, quoted)| if quoted { quote(&text) } else { text })
}

/// `text` as a YAML double-quoted scalar (JSON's escapes are YAML's).
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}
