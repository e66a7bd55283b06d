//! One trading day's open, high, low, close and volume.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Price;

/// A daily OHLCV bar, keyed by the exchange-local trading day.
///
/// Prices are as traded (unadjusted); `adj_close` is the split/dividend-adjusted close when the
/// source provides one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    pub date: NaiveDate,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub volume: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub adj_close: Option<Price>,
}

/// Why a set of values is not a consistent bar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarError {
    #[error("bar for {date} has a non-positive price")]
    NonPositivePrice { date: NaiveDate },
    #[error(
        "bar for {date} is inconsistent: low {low} / high {high} do not bracket open {open} and close {close}"
    )]
    Inconsistent {
        date: NaiveDate,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
    },
}

impl Bar {
    /// Builds a bar, rejecting non-positive prices and a low/high that do not bracket open and
    /// close, so bad upstream rows never reach the store.
    pub fn new_checked(
        date: NaiveDate,
        open: Price,
        high: Price,
        low: Price,
        close: Price,
        volume: u64,
        adj_close: Option<Price>,
    ) -> Result<Self, BarError> {
        if !(open.is_positive() && high.is_positive() && low.is_positive() && close.is_positive())
            || adj_close.is_some_and(|a| !a.is_positive())
        {
            return Err(BarError::NonPositivePrice { date });
        }
        if low > open.min(close) || high < open.max(close) {
            return Err(BarError::Inconsistent {
                date,
                open,
                high,
                low,
                close,
            });
        }
        Ok(Self {
            date,
            open,
            high,
            low,
            close,
            volume,
            adj_close,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 5).unwrap()
    }

    fn p(text: &str) -> Price {
        text.parse().unwrap()
    }

    #[test]
    fn consistent_bar_is_accepted() {
        let bar = Bar::new_checked(
            day(),
            p("161.59"),
            p("162.28"),
            p("160.54"),
            p("161.41"),
            3_963_700,
            None,
        );
        assert!(bar.is_ok());
    }

    #[test]
    fn low_above_close_is_rejected() {
        let bar = Bar::new_checked(day(), p("161"), p("162"), p("161.5"), p("161.2"), 1, None);
        assert!(matches!(bar, Err(BarError::Inconsistent { .. })));
    }

    #[test]
    fn zero_or_negative_prices_are_rejected() {
        let bar = Bar::new_checked(day(), p("0"), p("1"), p("0"), p("1"), 1, None);
        assert_eq!(bar, Err(BarError::NonPositivePrice { date: day() }));
        let bar = Bar::new_checked(day(), p("1"), p("1"), p("1"), p("1"), 1, Some(p("-1")));
        assert_eq!(bar, Err(BarError::NonPositivePrice { date: day() }));
    }
}
