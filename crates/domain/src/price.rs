//! Exact prices: a fixed-point integer at one global scale.
//!
//! | operation            | behaviour                                                          |
//! |----------------------|--------------------------------------------------------------------|
//! | parse `"161.4100"`   | exact; up to 9 fractional digits, more are rounded half away from 0 |
//! | `==`, `<`, hash      | on the raw integer, so prices can key a `BTreeMap`                 |
//! | [`Price::mean`]      | summed in `i128`, rounded half away from zero at 1e-9              |
//! | display / JSON       | shortest exact decimal (`161.41`), never scientific notation       |
//!
//! Why fixed point and not `f64` or a decimal crate: providers send decimal text
//! (`"161.4100"`), and averages and threshold comparisons must be exact and orderable. An `i64`
//! at 1e-9 holds ±9.2e9, ample for any traded price, is `Ord + Hash`, stores as a `BIGINT` in
//! every database and compares in one instruction. Indicators convert to `f64` at their edge.
//!
//! JSON output: prices are written as JSON numbers through `f64`'s shortest round-trip form.
//! Every decimal with at most 15 significant digits survives that exactly (IEEE 754 guarantees
//! 15), which covers every real quote (e.g. `123456.789012` has 12). Readers that need more
//! precision can read the raw integer from the store.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Fixed-point scale: raw units per 1.0.
const SCALE: i64 = 1_000_000_000;
const FRACTION_DIGITS: usize = 9;

/// An exact price in raw units of 1e-9.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Price(i64);

/// Why a text is not a price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("'{0}' is not a decimal number")]
    NotANumber(String),
    #[error("'{0}' is out of the supported price range")]
    OutOfRange(String),
}

impl Price {
    /// Zero.
    pub const ZERO: Price = Price(0);

    /// Builds a price from raw 1e-9 units (as stored in the database).
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The raw 1e-9 units.
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// Whole units, for tests and constants (`Price::from_units(420)`).
    pub const fn from_units(units: i64) -> Self {
        Self(units * SCALE)
    }

    /// Converts from `f64`, rounding to the nearest 1e-9; for values that were never text
    /// (simulations, computed levels). `None` for NaN, infinities and out-of-range values.
    pub fn from_f64(value: f64) -> Option<Self> {
        let scaled = (value * SCALE as f64).round();
        (scaled.is_finite() && scaled.abs() < i64::MAX as f64).then_some(Self(scaled as i64))
    }

    /// The price as `f64`, for indicators and statistics (not for comparisons).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// True for prices strictly above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `self - other`, or `None` on overflow.
    pub fn checked_sub(self, other: Price) -> Option<Price> {
        self.0.checked_sub(other.0).map(Price)
    }

    /// The arithmetic mean, exact to 1e-9 (rounded half away from zero); `None` when empty.
    pub fn mean(prices: impl IntoIterator<Item = Price>) -> Option<Price> {
        let (sum, count) = prices.into_iter().fold((0i128, 0usize), |(sum, count), p| {
            (sum + i128::from(p.0), count + 1)
        });
        Self::mean_of_sum(sum, count)
    }

    /// The mean of `count` prices whose raw values add up to `sum` (for running sums), exact
    /// like [`Price::mean`]; `None` when `count` is 0.
    pub fn mean_of_sum(sum: i128, count: usize) -> Option<Price> {
        if count == 0 {
            return None;
        }
        let rounded = div_round_half_away(sum, count as i128);
        i64::try_from(rounded).ok().map(Price)
    }

    /// Percentage change from `base` to `self` (`(self - base) / base * 100`); `None` if base is 0.
    pub fn percent_change_from(self, base: Price) -> Option<f64> {
        (base.0 != 0).then(|| (self.0 as f64 - base.0 as f64) / base.0 as f64 * 100.0)
    }
}

fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.abs() * 2 >= denominator.abs() {
        quotient + numerator.signum() * denominator.signum()
    } else {
        quotient
    }
}

impl FromStr for Price {
    type Err = PriceError;

    /// Parses decimal text (`"161.4100"`, `"-0.25"`, `"+3"`, `"1e2"` is rejected) exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_a_number = || PriceError::NotANumber(text.chars().take(40).collect());
        let trimmed = text.trim();
        let (negative, unsigned) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err(not_a_number());
        }
        let out_of_range = || PriceError::OutOfRange(text.chars().take(40).collect());
        let whole_value: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| out_of_range())?
        };
        let (kept, dropped) = fraction.split_at(fraction.len().min(FRACTION_DIGITS));
        let mut fraction_value: i128 = if kept.is_empty() {
            0
        } else {
            kept.parse().map_err(|_| not_a_number())?
        };
        fraction_value *= 10i128.pow((FRACTION_DIGITS - kept.len()) as u32);
        if dropped.as_bytes().first().is_some_and(|d| *d >= b'5') {
            fraction_value += 1;
        }
        let magnitude = whole_value
            .checked_mul(i128::from(SCALE))
            .and_then(|w| w.checked_add(fraction_value))
            .ok_or_else(out_of_range)?;
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed).map(Price).map_err(|_| out_of_range())
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = magnitude / SCALE as u64;
        let fraction = magnitude % SCALE as u64;
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let digits = format!("{fraction:09}");
        write!(f, "{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({self})")
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for Price {
    /// Accepts a JSON number or a decimal string.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PriceVisitor;
        impl serde::de::Visitor<'_> for PriceVisitor {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price as a number or decimal string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Price, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Price, E> {
                v.checked_mul(SCALE)
                    .map(Price)
                    .ok_or_else(|| E::custom("price out of range"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Price, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| v.checked_mul(SCALE))
                    .map(Price)
                    .ok_or_else(|| E::custom("price out of range"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Price, E> {
                // Go through the shortest decimal text so 0.1 becomes exactly 0.1.
                v.to_string().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(PriceVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Price {
        text.parse().unwrap()
    }

    #[test]
    fn provider_text_parses_exactly() {
        assert_eq!(p("161.4100").raw(), 161_410_000_000);
        assert_eq!(p("-0.2500").raw(), -250_000_000);
        assert_eq!(p("+3").raw(), 3 * SCALE);
        assert_eq!(p(".5").raw(), 500_000_000);
        assert_eq!(p("7.").raw(), 7 * SCALE);
    }

    #[test]
    fn digits_beyond_the_scale_round_half_away_from_zero() {
        assert_eq!(p("4.186662803811").raw(), 4_186_662_804);
        assert_eq!(p("0.0000000004").raw(), 0);
        assert_eq!(p("-0.0000000005").raw(), -1);
    }

    #[test]
    fn garbage_is_rejected() {
        for text in ["", "-", ".", "1.2.3", "abc", "1e5", "12,5", "NaN", "--1"] {
            assert!(
                text.parse::<Price>().is_err(),
                "{text:?} should be rejected"
            );
        }
        assert!(matches!(
            "99999999999".parse::<Price>(),
            Err(PriceError::OutOfRange(_))
        ));
    }

    #[test]
    fn display_is_the_shortest_exact_decimal() {
        assert_eq!(p("161.4100").to_string(), "161.41");
        assert_eq!(p("-0.25").to_string(), "-0.25");
        assert_eq!(p("27").to_string(), "27");
        assert_eq!(p("0.000000001").to_string(), "0.000000001");
    }

    #[test]
    fn mean_is_exact_and_rounds_half_away_from_zero() {
        let prices = [p("27.80"), p("27.95"), p("28.01")];
        assert_eq!(Price::mean(prices), Some(p("27.92")));
        assert_eq!(
            Price::mean([Price::from_raw(1), Price::from_raw(2)]),
            Some(Price::from_raw(2))
        );
        assert_eq!(
            Price::mean([Price::from_raw(-1), Price::from_raw(-2)]),
            Some(Price::from_raw(-2))
        );
        assert_eq!(Price::mean([]), None);
    }

    #[test]
    fn json_is_a_number_and_reads_numbers_and_strings() {
        assert_eq!(serde_json::to_string(&p("388.47")).unwrap(), "388.47");
        assert_eq!(serde_json::from_str::<Price>("0.1").unwrap(), p("0.1"));
        assert_eq!(
            serde_json::from_str::<Price>("\"161.4100\"").unwrap(),
            p("161.41")
        );
        assert_eq!(
            serde_json::from_str::<Price>("42").unwrap(),
            Price::from_units(42)
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(raw in -9_000_000_000_000_000_000i64..9_000_000_000_000_000_000i64) {
            let price = Price::from_raw(raw);
            prop_assert_eq!(price.to_string().parse::<Price>().unwrap(), price);
        }

        #[test]
        fn json_round_trips_up_to_fifteen_significant_digits(whole in 0i64..1_000_000, cents in 0i64..1_000_000_000) {
            // 6 whole digits + up to 9 fractional digits = at most 15 significant digits.
            let price = Price::from_raw(whole * SCALE + cents);
            let json = serde_json::to_string(&price).unwrap();
            prop_assert_eq!(serde_json::from_str::<Price>(&json).unwrap(), price);
        }

        #[test]
        fn mean_lies_between_min_and_max(raws in proptest::collection::vec(0i64..1_000_000_000_000, 1..50)) {
            let prices: Vec<Price> = raws.iter().copied().map(Price::from_raw).collect();
            let mean = Price::mean(prices.iter().copied()).unwrap();
            prop_assert!(mean >= *prices.iter().min().unwrap());
            prop_assert!(mean <= *prices.iter().max().unwrap());
        }
    }
}
