//! What one firing of an alert rule tells its owner: written by the alert evaluator with the
//! firing, carried by the bus's alert event, sent by the dispatcher to every channel.
//!
//! Its JSON is the body of a generic webhook, so its shape is part of the public contract:
//! `{"type": "alert.fired", "rule_id": 42, "symbol": "MSFT", "price": 421.13, "at": …,
//! "source": "finnhub", "message": …, "dedupe_key": …}` (a test pins it).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Price, Symbol};

/// One firing, as its owner's channels receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "alert.fired")]
pub struct AlertNotice {
    /// The rule that fired.
    pub rule_id: i64,
    pub symbol: Symbol,
    /// The price of the quote that fired it.
    pub price: Price,
    /// That quote's time.
    pub at: DateTime<Utc>,
    /// The provider that answered the quote (`finnhub`, `sim`, …).
    pub source: String,
    /// One human line: `MSFT crossed above 420.00 (now 421.30)`.
    pub message: String,
    /// Rule + quote time: the same firing seen twice has the same key.
    pub dedupe_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> AlertNotice {
        AlertNotice {
            rule_id: 42,
            symbol: Symbol::parse("MSFT").unwrap(),
            price: "421.13".parse().unwrap(),
            at: "2026-11-27T15:30:00Z".parse().unwrap(),
            source: "finnhub".into(),
            message: "MSFT crossed above 420.00 (now 421.13)".into(),
            dedupe_key: "42:2026-11-27T15:30:00Z".into(),
        }
    }

    #[test]
    fn its_json_is_the_webhook_body_receivers_know() {
        let json = serde_json::to_value(notice()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "alert.fired",
                "rule_id": 42,
                "symbol": "MSFT",
                "price": 421.13,
                "at": "2026-11-27T15:30:00Z",
                "source": "finnhub",
                "message": "MSFT crossed above 420.00 (now 421.13)",
                "dedupe_key": "42:2026-11-27T15:30:00Z",
            })
        );
        assert_eq!(
            serde_json::from_value::<AlertNotice>(json).unwrap(),
            notice()
        );
    }

    #[test]
    fn a_body_of_another_shape_is_refused() {
        let partial = serde_json::json!({"type": "alert.fired", "symbol": "MSFT", "price": 1});
        assert!(serde_json::from_value::<AlertNotice>(partial).is_err());
        let mut mistyped = serde_json::to_value(notice()).unwrap();
        mistyped["rule_id"] = "42".into();
        assert!(serde_json::from_value::<AlertNotice>(mistyped).is_err());
    }
}
