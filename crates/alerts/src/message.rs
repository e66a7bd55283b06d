//! Human text for triggers ("MSFT crossed above 420.00 (now 421.30)") and their dedupe keys.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::Price;

use crate::rule::RuleId;

/// A price as people write money: at least two decimals, more only when the price has them.
pub(crate) fn money(price: Price) -> String {
    let text = price.to_string();
    match text.split_once('.') {
        None => format!("{text}.00"),
        Some((_, fraction)) if fraction.len() == 1 => format!("{text}0"),
        Some(_) => text,
    }
}

/// A percentage with two decimals, from an exact ratio.
pub(crate) fn percent(value: f64) -> String {
    format!("{value:.2}%")
}

/// The trigger's idempotency key: the rule and the quote's time, so a replayed quote (after a
/// crash, or from a second replica) maps to the same alert event.
pub(crate) fn dedupe_key(rule_id: RuleId, at: DateTime<Utc>) -> String {
    format!(
        "r{rule_id}:{}",
        at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_at_least_two_decimals() {
        assert_eq!(money(Price::from_units(420)), "420.00");
        assert_eq!(money("421.3".parse().unwrap()), "421.30");
        assert_eq!(money("0.12345".parse().unwrap()), "0.12345");
    }

    #[test]
    fn dedupe_key_is_rule_and_quote_time() {
        let at = "2026-11-27T15:30:00Z".parse().unwrap();
        assert_eq!(dedupe_key(42, at), "r42:2026-11-27T15:30:00Z");
        let at = "2026-11-27T15:30:00.250Z".parse().unwrap();
        assert_eq!(dedupe_key(42, at), "r42:2026-11-27T15:30:00.250Z");
    }
}
