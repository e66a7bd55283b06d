//! The latest traded price of a symbol.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{Price, Symbol};

/// The latest price of a symbol with its change versus the previous close.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub symbol: Symbol,
    pub price: Price,
    pub previous_close: Option<Price>,
    /// The exchange-local trading day the price belongs to.
    pub trading_day: NaiveDate,
    /// The provider's own timestamp of the price, when it sends one.
    pub as_of: Option<DateTime<Utc>>,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl Quote {
    /// `price - previous_close`.
    pub fn change(&self) -> Option<Price> {
        self.previous_close
            .and_then(|prev| self.price.checked_sub(prev))
    }

    /// The change in percent of the previous close.
    pub fn change_percent(&self) -> Option<f64> {
        self.previous_close
            .and_then(|prev| self.price.percent_change_from(prev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_and_percent_follow_the_previous_close() {
        let quote = Quote {
            symbol: Symbol::parse("IBM").unwrap(),
            price: "161.41".parse().unwrap(),
            previous_close: Some("161.66".parse().unwrap()),
            trading_day: "2024-01-05".parse().unwrap(),
            as_of: None,
            source: "test".into(),
            fetched_at: Utc::now(),
        };
        assert_eq!(quote.change().unwrap().to_string(), "-0.25");
        let pct = quote.change_percent().unwrap();
        assert!((pct - (-0.154645)).abs() < 1e-5, "{pct}");
    }
}
