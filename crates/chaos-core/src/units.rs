//! Human units as a user writes them in a scenario: durations (`250ms`, `90s`, `5m`), rates
//! (`20/s`, `600/m`), percentages (`99.9%`), prices (`0.15/M`) and amounts of money (`$5`).
//!
//! Each type parses from a string (or, where it makes sense, a bare number) and deserializes
//! through that parser, so a bad value fails inside serde and the YAML error carries the exact
//! line and column of the value.

use std::{fmt, str::FromStr, time::Duration};

use serde::{de, Deserialize, Deserializer};

mod schema;

/// A duration written as `<number><unit>`, unit one of `us`, `ms`, `s`, `m`, `h`, `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

/// Requests per second, written `20/s`, `600/m` or `3600/h`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

/// Bytes per second, written `500B/s`, `10KB/s`, `2MB/s` (decimal) or `64KiB/s`, `1MiB/s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteRate(pub u64);

/// A fraction in `0..=1`, written `99.9%` or as a bare number `0.999`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(pub f64);

/// US dollars per token, written as dollars per million (`0.15/M`), per thousand (`0.0005/K`)
/// or per token (`0.00000015`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Price(pub f64);

/// An amount of US dollars, written `$5`, `$0.50` or as a bare number `5`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Dollars(pub f64);

/// The longest duration a scenario may name.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);
/// The slowest and fastest rates a scenario may name, per second.
pub const MIN_RATE: f64 = 1.0 / 3600.0;
pub const MAX_RATE: f64 = 1_000_000.0;

/// Why a unit string did not parse; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(String);

fn split_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let end =
        text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+')).unwrap_or(text.len());
    let number: f64 = text[..end].parse().ok()?;
    number.is_finite().then_some((number, text[end..].trim()))
}

/// An error naming what was being read and what was expected.
fn invalid(what: &str, text: &str, detail: &str) -> UnitError {
    UnitError(format!("invalid {what} `{text}`: {detail}"))
}

/// A unit suffix and how to convert a number in it to the base unit.
type Unit = (&'static str, fn(f64) -> f64);

/// The suffixes of each unit type, to seconds, per second, bytes per second, a fraction and
/// dollars per token. An empty suffix means a bare number is read too. The parsers and the
/// scenario schema (`units/schema.rs`) both read these, so they accept the same spellings.
const DURATION_UNITS: &[Unit] = &[
    ("us", |n| n * 1e-6),
    ("µs", |n| n * 1e-6),
    ("ms", |n| n * 1e-3),
    ("s", |n| n),
    ("m", |n| n * 60.0),
    ("h", |n| n * 3600.0),
    ("d", |n| n * 86_400.0),
];
const RATE_UNITS: &[Unit] = &[("/s", |n| n), ("/m", |n| n / 60.0), ("/h", |n| n / 3600.0)];
const BYTE_RATE_UNITS: &[Unit] = &[
    ("B/s", |n| n),
    ("KB/s", |n| n * 1e3),
    ("MB/s", |n| n * 1e6),
    ("GB/s", |n| n * 1e9),
    ("KiB/s", |n| n * 1024.0),
    ("MiB/s", |n| n * (1024.0 * 1024.0)),
];
const PERCENT_UNITS: &[Unit] = &[("%", |n| n / 100.0), ("", |n| n)];
const PRICE_UNITS: &[Unit] = &[("/M", |n| n / 1e6), ("/K", |n| n / 1e3), ("", |n| n)];
/// Dollars are a bare number after an optional [`DOLLAR_SIGN`].
const DOLLAR_UNITS: &[Unit] = &[("", |n| n)];
const DOLLAR_SIGN: &str = "$";

/// The number `text` starts with, converted by the entry of `units` its suffix names; else an
/// error saying what was `expected`.
fn scaled(text: &str, what: &str, expected: &str, units: &[Unit]) -> Result<f64, UnitError> {
    let bad = || invalid(what, text, expected);
    let (number, unit) = split_number(text).ok_or_else(bad)?;
    let (_, convert) = units.iter().find(|(suffix, _)| *suffix == unit).ok_or_else(bad)?;
    Ok(convert(number))
}

impl FromStr for HumanDuration {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected = "expected a number and a unit, like `250ms`, `90s`, `5m` (units: us, ms, s, m, h, d)";
        let seconds = scaled(text, "duration", expected, DURATION_UNITS)?;
        if seconds < 0.0 {
            return Err(invalid("duration", text, "a duration cannot be negative"));
        }
        Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| *d <= MAX_DURATION)
            .map(HumanDuration)
            .ok_or_else(|| invalid("duration", text, "the longest allowed is 365d"))
    }
}

impl FromStr for Rate {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected = "expected requests per unit of time, like `20/s`, `600/m` or `3600/h`";
        let per_second = scaled(text, "rate", expected, RATE_UNITS)?;
        if per_second <= 0.0 {
            return Err(invalid("rate", text, "a rate must be greater than zero"));
        }
        if !(MIN_RATE..=MAX_RATE).contains(&per_second) {
            return Err(invalid("rate", text, "expected between 1/h and 1000000/s"));
        }
        Ok(Rate(per_second))
    }
}

impl FromStr for ByteRate {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected = "expected a positive rate like `500B/s`, `10KB/s`, `2MB/s`, `64KiB/s`";
        let bytes = scaled(text, "byte rate", expected, BYTE_RATE_UNITS)?.round();
        if !(1.0..=1e12).contains(&bytes) {
            return Err(invalid("byte rate", text, expected));
        }
        Ok(ByteRate(bytes as u64))
    }
}

impl FromStr for Percent {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected = "expected a value from 0% to 100% (like `99.9%`) or a fraction from 0 to 1";
        let fraction = scaled(text, "percentage", expected, PERCENT_UNITS)?;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(invalid("percentage", text, expected));
        }
        Ok(Percent(fraction))
    }
}

impl FromStr for Price {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected =
            "expected US dollars per million tokens like `0.15/M`, per thousand like `0.0005/K`, or per token";
        let per_token = scaled(text, "price", expected, PRICE_UNITS)?;
        if per_token < 0.0 {
            return Err(invalid("price", text, "a price cannot be negative"));
        }
        Ok(Price(per_token))
    }
}

impl FromStr for Dollars {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let expected = "expected US dollars like `$5`, `$0.50` or `5`";
        let number = text.trim_start().strip_prefix(DOLLAR_SIGN).unwrap_or(text);
        let dollars = scaled(number, "amount", expected, DOLLAR_UNITS)
            .map_err(|_| invalid("amount", text, expected))?;
        if dollars < 0.0 {
            return Err(invalid("amount", text, "an amount cannot be negative"));
        }
        Ok(Dollars(dollars))
    }
}

/// Deserializes a unit type from a YAML string or a bare number (read as its text).
fn deserialize_unit<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = UnitError>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Number(f64),
        Text(String),
    }
    let text = match Text::deserialize(deserializer)? {
        Text::Number(number) => number.to_string(),
        Text::Text(text) => text,
    };
    text.parse().map_err(de::Error::custom)
}

macro_rules! deserialize_via_from_str {
    ($($unit:ty),*) => {$(
        impl<'de> Deserialize<'de> for $unit {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_unit(deserializer)
            }
        }
    )*};
}
deserialize_via_from_str!(HumanDuration, Rate, Percent, Price, ByteRate, Dollars);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_duration(self.0, f)
    }
}

/// Writes a duration in the largest unit that keeps it readable (`1.5s`, `250ms`, `5m`).
pub fn format_duration(duration: Duration, f: &mut impl fmt::Write) -> fmt::Result {
    let seconds = duration.as_secs_f64();
    if seconds >= 120.0 && seconds % 60.0 == 0.0 {
        write!(f, "{}m", seconds / 60.0)
    } else if seconds >= 1.0 {
        write!(f, "{}s", round3(seconds))
    } else {
        write!(f, "{}ms", round3(seconds * 1e3))
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        let parse = |s: &str| s.parse::<HumanDuration>().unwrap().0;
        assert_eq!(parse("250ms"), Duration::from_millis(250));
        assert_eq!(parse("90s"), Duration::from_secs(90));
        assert_eq!(parse("5m"), Duration::from_secs(300));
        assert_eq!(parse("1.5h"), Duration::from_secs(5400));
        assert_eq!(parse("30d"), Duration::from_secs(30 * 86_400));
        assert_eq!(parse("100us"), Duration::from_micros(100));
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        for text in ["5", "5x", "ms", "-3s", "", "99999999999999999999999d", "366d"] {
            let error = text.parse::<HumanDuration>().unwrap_err().to_string();
            assert!(error.contains("duration"), "{text}: {error}");
        }
    }

    #[test]
    fn rates_convert_to_per_second() {
        assert_eq!("20/s".parse::<Rate>().unwrap().0, 20.0);
        assert_eq!("600/m".parse::<Rate>().unwrap().0, 10.0);
        assert!("-5/s".parse::<Rate>().is_err());
        assert!("0/s".parse::<Rate>().is_err());
        assert!("20".parse::<Rate>().is_err());
        assert!("1e-300/s".parse::<Rate>().is_err());
        assert!("2000000/s".parse::<Rate>().is_err());
    }

    #[test]
    fn percentages_accept_percent_or_fraction() {
        assert!(("99.9%".parse::<Percent>().unwrap().0 - 0.999).abs() < 1e-12);
        assert_eq!("0.3".parse::<Percent>().unwrap().0, 0.3);
        assert!("101%".parse::<Percent>().is_err());
        assert!("1.5".parse::<Percent>().is_err());
    }

    #[test]
    fn byte_rates_in_decimal_and_binary_units() {
        assert_eq!("500B/s".parse::<ByteRate>().unwrap().0, 500);
        assert_eq!("10KB/s".parse::<ByteRate>().unwrap().0, 10_000);
        assert_eq!("64KiB/s".parse::<ByteRate>().unwrap().0, 65_536);
        assert!("0B/s".parse::<ByteRate>().is_err());
        assert!("10KB".parse::<ByteRate>().is_err());
    }

    #[test]
    fn prices_are_per_token() {
        assert!(("0.15/M".parse::<Price>().unwrap().0 - 0.15e-6).abs() < 1e-18);
        assert!(("0.5/K".parse::<Price>().unwrap().0 - 0.5e-3).abs() < 1e-15);
        assert!("3/G".parse::<Price>().is_err());
    }

    #[test]
    fn dollars_with_or_without_the_sign() {
        assert_eq!("$5".parse::<Dollars>().unwrap().0, 5.0);
        assert_eq!(" $0.50 ".parse::<Dollars>().unwrap().0, 0.5);
        assert_eq!("2".parse::<Dollars>().unwrap().0, 2.0);
        assert!("$-1".parse::<Dollars>().unwrap_err().to_string().contains("cannot be negative"));
        let error = "5 dollars".parse::<Dollars>().unwrap_err().to_string();
        assert_eq!(error, "invalid amount `5 dollars`: expected US dollars like `$5`, `$0.50` or `5`");
        assert!("$".parse::<Dollars>().is_err() && "5$".parse::<Dollars>().is_err());
    }

    #[test]
    fn durations_print_readably() {
        let show = |d| HumanDuration(d).to_string();
        assert_eq!(show(Duration::from_millis(250)), "250ms");
        assert_eq!(show(Duration::from_millis(1500)), "1.5s");
        assert_eq!(show(Duration::from_secs(300)), "5m");
    }
}
