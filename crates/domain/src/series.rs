//! A symbol's daily bars with their provenance.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::{Bar, Price, Symbol};

/// Daily bars for one symbol, oldest first, one bar per date, with where and when they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub symbol: Symbol,
    bars: Vec<Bar>,
    /// The provider the bars came from (`alphavantage`, `sample`, …).
    pub source: String,
    /// When the source was asked for them.
    pub fetched_at: DateTime<Utc>,
}

impl Series {
    /// Builds a series; bars are sorted by date and, for duplicate dates, the last one wins.
    pub fn new(
        symbol: Symbol,
        mut bars: Vec<Bar>,
        source: impl Into<String>,
        fetched_at: DateTime<Utc>,
    ) -> Self {
        // A stable sort keeps input order among equal dates, so reversing before dedup keeps the
        // last occurrence of each date.
        bars.reverse();
        bars.sort_by_key(|bar| bar.date);
        bars.dedup_by_key(|bar| bar.date);
        Self {
            symbol,
            bars,
            source: source.into(),
            fetched_at,
        }
    }

    /// All bars, oldest first.
    pub fn bars(&self) -> &[Bar] {
        &self.bars
    }

    /// True when there are no bars.
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// The most recent bar.
    pub fn latest(&self) -> Option<&Bar> {
        self.bars.last()
    }

    /// The last `n` trading days, oldest first (all of them when fewer exist).
    pub fn last_days(&self, n: usize) -> &[Bar] {
        &self.bars[self.bars.len().saturating_sub(n)..]
    }

    /// Bars whose date lies in `from..=to` (either bound optional), oldest first.
    pub fn between(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> &[Bar] {
        let start = from.map_or(0, |from| self.bars.partition_point(|bar| bar.date < from));
        let end = to.map_or(self.bars.len(), |to| {
            self.bars.partition_point(|bar| bar.date <= to)
        });
        self.bars.get(start..end.max(start)).unwrap_or_default()
    }

    /// The mean close of `bars`; `None` when empty.
    pub fn average_close(bars: &[Bar]) -> Option<Price> {
        Price::mean(bars.iter().map(|bar| bar.close))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(date: &str, close: &str) -> Bar {
        let close: Price = close.parse().unwrap();
        Bar {
            date: date.parse().unwrap(),
            open: close,
            high: close,
            low: close,
            close,
            volume: 1,
            adj_close: None,
        }
    }

    fn series(bars: Vec<Bar>) -> Series {
        Series::new(Symbol::parse("MSFT").unwrap(), bars, "test", Utc::now())
    }

    #[test]
    fn bars_are_sorted_and_the_last_duplicate_wins() {
        let s = series(vec![
            bar("2024-01-03", "3"),
            bar("2024-01-01", "1"),
            bar("2024-01-03", "33"),
        ]);
        let closes: Vec<String> = s.bars().iter().map(|b| b.close.to_string()).collect();
        assert_eq!(closes, ["1", "33"]);
    }

    #[test]
    fn last_days_returns_all_when_fewer_exist() {
        let s = series(vec![bar("2024-01-01", "1"), bar("2024-01-02", "2")]);
        assert_eq!(s.last_days(1).len(), 1);
        assert_eq!(s.last_days(1)[0].close.to_string(), "2");
        assert_eq!(s.last_days(10).len(), 2);
    }

    #[test]
    fn between_is_inclusive_and_tolerates_inverted_bounds() {
        let s = series(vec![
            bar("2024-01-01", "1"),
            bar("2024-01-02", "2"),
            bar("2024-01-04", "4"),
        ]);
        let d = |t: &str| Some(t.parse().unwrap());
        assert_eq!(s.between(d("2024-01-02"), d("2024-01-04")).len(), 2);
        assert_eq!(s.between(d("2024-01-03"), None).len(), 1);
        assert_eq!(s.between(None, d("2024-01-01")).len(), 1);
        assert!(s.between(d("2024-01-04"), d("2024-01-01")).is_empty());
    }

    #[test]
    fn average_close_is_exact() {
        let bars = [bar("2024-01-01", "27.80"), bar("2024-01-02", "27.95")];
        assert_eq!(Series::average_close(&bars).unwrap().to_string(), "27.875");
        assert_eq!(Series::average_close(&[]), None);
    }
}
