//! Prices and volumes sent as JSON numbers (Finnhub, Yahoo, Polygon), read from their literal
//! text.
//!
//! Without serde_json's `arbitrary_precision`, a JSON number with a fraction is decoded into
//! `f64` before any of our code sees it, so `189.84` would arrive as the nearest double. Instead
//! each price is captured as a [`RawValue`] (the exact characters upstream sent) and handed to
//! [`Price`]'s exact decimal parser. `arbitrary_precision` would do the same job but changes
//! `serde_json::Value` for every crate in the workspace; `raw_value` is local to the fields that
//! ask for it. Exponent forms (`1.8984e2`, which some encoders emit) are expanded textually
//! first, because `Price` only reads plain decimals.

use std::borrow::Cow;

use domain::Price;
use serde::de::{Deserialize, Deserializer, Error};
use serde_json::value::RawValue;

use crate::parse::parse_volume;

/// A price read exactly from a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonPrice(pub Price);

/// A share volume read from a JSON number; integral decimals (`58414500.0`) are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonVolume(pub u64);

impl<'de> Deserialize<'de> for JsonPrice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = number_text(raw.get()).map_err(D::Error::custom)?;
        text.parse::<Price>()
            .map(JsonPrice)
            .map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for JsonVolume {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = number_text(raw.get()).map_err(D::Error::custom)?;
        parse_volume(&text)
            .map(JsonVolume)
            .ok_or_else(|| D::Error::custom(format_args!("volume {text} is not a whole number")))
    }
}

/// The plain decimal text of a raw JSON number; strings, `null`s and other values are refused
/// (`Option<JsonPrice>` handles `null` before this is reached).
fn number_text(raw: &str) -> Result<Cow<'_, str>, String> {
    let raw = raw.trim();
    let starts_like_a_number = raw
        .bytes()
        .next()
        .is_some_and(|b| b == b'-' || b.is_ascii_digit());
    if !starts_like_a_number {
        return Err(format!("expected a number, found {}", shorten(raw)));
    }
    plain_decimal(raw).ok_or_else(|| format!("{} is not a decimal number", shorten(raw)))
}

/// `text` without an exponent: `1.8984e2` → `189.84`, `5E-3` → `0.005`; plain text unchanged.
fn plain_decimal(text: &str) -> Option<Cow<'_, str>> {
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return Some(Cow::Borrowed(text));
    };
    let exponent: i32 = exponent.parse().ok()?;
    // Prices and volumes never need more than a few dozen digits; refuse absurd exponents
    // rather than allocate for them.
    if exponent.unsigned_abs() > 40 {
        return None;
    }
    let (sign, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    // Where the decimal point falls within `digits` once the exponent is applied.
    let point = i64::try_from(whole.len()).ok()? + i64::from(exponent);
    let text = if point <= 0 {
        let zeros = "0".repeat(usize::try_from(-point).ok()?);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = usize::try_from(point).ok()?;
        if point >= digits.len() {
            let zeros = "0".repeat(point - digits.len());
            format!("{sign}{digits}{zeros}")
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    };
    Some(Cow::Owned(text))
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn price(json: &str) -> Result<Price, serde_json::Error> {
        serde_json::from_str::<JsonPrice>(json).map(|p| p.0)
    }

    #[test]
    fn prices_keep_every_digit_sent() {
        assert_eq!(price("189.84").unwrap(), "189.84".parse().unwrap());
        // Not representable in f64: the nearest double would print as 0.30000000000000004.
        assert_eq!(price("0.3").unwrap().to_string(), "0.3");
        assert_eq!(
            price("185.63999938964844").unwrap().to_string(),
            "185.63999939"
        );
        assert_eq!(price("0").unwrap(), Price::default());
        assert_eq!(price("-1.5").unwrap().to_string(), "-1.5");
    }

    #[test]
    fn exponent_forms_are_expanded_exactly() {
        assert_eq!(price("1.8984e2").unwrap().to_string(), "189.84");
        assert_eq!(price("5E-3").unwrap().to_string(), "0.005");
        assert_eq!(price("12e+1").unwrap().to_string(), "120");
        assert_eq!(price("-1.5e1").unwrap().to_string(), "-15");
        assert_eq!(plain_decimal("1.25e-1").unwrap(), "0.125");
    }

    #[test]
    fn strings_nulls_and_absurd_numbers_are_refused() {
        for json in [r#""189.84""#, "null", "true", "[1]", "1e400"] {
            assert!(price(json).is_err(), "{json} should be refused");
        }
    }

    #[test]
    fn nulls_inside_options_are_none() {
        let prices: Vec<Option<JsonPrice>> = serde_json::from_str("[1.5, null, 2]").unwrap();
        assert_eq!(prices.len(), 3);
        assert!(prices[1].is_none());
    }

    #[test]
    fn volumes_accept_integral_decimals_and_exponents_but_not_fractions() {
        let volume = |json: &str| serde_json::from_str::<JsonVolume>(json).map(|v| v.0);
        assert_eq!(volume("82488700").unwrap(), 82_488_700);
        assert_eq!(volume("58414500.0").unwrap(), 58_414_500);
        assert_eq!(volume("1.2345e6").unwrap(), 1_234_500);
        assert!(volume("10.5").is_err());
        assert!(volume("-3").is_err());
    }
}
