//! Price change over a range of daily bars: start and end close, change, range, drawdown.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{Bar, Price};

/// How a symbol moved over a range of trading days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    /// First trading day of the range and its close.
    pub start_date: NaiveDate,
    pub start_close: Price,
    /// Last trading day of the range and its close.
    pub end_date: NaiveDate,
    pub end_close: Price,
    /// `end_close - start_close`.
    pub change: Price,
    /// The change in percent of the start close.
    pub change_percent: f64,
    /// Highest high and lowest low of the range.
    pub high: Price,
    pub low: Price,
    /// The largest fall from a running peak close to a later close, in percent of that peak
    /// (0 when the closes never fell); negative numbers are not used.
    pub max_drawdown_percent: f64,
    /// Trading days (bars) in the range, both ends included.
    pub trading_days: usize,
}

impl Delta {
    /// The delta over `bars` (oldest first); `None` when there are no bars.
    pub fn over(bars: &[Bar]) -> Option<Self> {
        let (first, last) = (bars.first()?, bars.last()?);
        let change = last.close.checked_sub(first.close)?;
        let mut high = first.high;
        let mut low = first.low;
        let mut peak = first.close;
        let mut max_drawdown = 0.0f64;
        for bar in bars {
            high = high.max(bar.high);
            low = low.min(bar.low);
            peak = peak.max(bar.close);
            if let Some(fall) = peak.percent_change_from_peak(bar.close) {
                max_drawdown = max_drawdown.max(fall);
            }
        }
        Some(Self {
            start_date: first.date,
            start_close: first.close,
            end_date: last.date,
            end_close: last.close,
            change,
            change_percent: last.close.percent_change_from(first.close).unwrap_or(0.0),
            high,
            low,
            max_drawdown_percent: max_drawdown,
            trading_days: bars.len(),
        })
    }
}

impl Price {
    /// How far `value` lies below `self` (a peak), in percent of the peak; `None` for a
    /// non-positive peak.
    fn percent_change_from_peak(self, value: Price) -> Option<f64> {
        self.is_positive()
            .then(|| (self.to_f64() - value.to_f64()) / self.to_f64() * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(date: &str, low: &str, high: &str, close: &str) -> Bar {
        let p = |t: &str| t.parse::<Price>().unwrap();
        Bar::new_checked(
            date.parse().unwrap(),
            p(close),
            p(high),
            p(low),
            p(close),
            1,
            None,
        )
        .unwrap()
    }

    #[test]
    fn delta_reports_change_range_and_drawdown() {
        let bars = [
            bar("2024-01-02", "99", "101", "100"),
            bar("2024-01-03", "100", "121", "120"),
            bar("2024-01-04", "89", "96", "90"),
            bar("2024-01-05", "95", "111", "110"),
        ];
        let delta = Delta::over(&bars).unwrap();
        assert_eq!(delta.change, "10".parse().unwrap());
        assert!((delta.change_percent - 10.0).abs() < 1e-12);
        assert_eq!(
            (delta.high, delta.low),
            ("121".parse().unwrap(), "89".parse().unwrap())
        );
        // Peak close 120 → 90 is a 25 % drawdown.
        assert!((delta.max_drawdown_percent - 25.0).abs() < 1e-12);
        assert_eq!(delta.trading_days, 4);
        assert_eq!(delta.start_date.to_string(), "2024-01-02");
    }

    #[test]
    fn a_rising_range_has_no_drawdown_and_one_bar_no_change() {
        let rising = [
            bar("2024-01-02", "1", "1", "1"),
            bar("2024-01-03", "2", "2", "2"),
        ];
        assert_eq!(Delta::over(&rising).unwrap().max_drawdown_percent, 0.0);
        let single = Delta::over(&rising[..1]).unwrap();
        assert_eq!((single.change, single.trading_days), (Price::ZERO, 1));
        assert!(Delta::over(&[]).is_none());
    }
}
