//! Technical indicators over a symbol's daily history: parsing a list of series
//! (`"sma:50,macd:12:26:9.histogram"`), reading the history through the read path, computing
//! each indicator once over the whole history and cutting the rows asked for.
//!
//! Values never depend on the rows asked for: every indicator runs over every stored bar
//! (converted by [`Candle::from_bar`], the one conversion every caller shares) and only then are
//! the rows cut, so an EMA asked from 2012 equals the same EMA asked from 2000 on the same dates.
//! Too little history is not an error: its rows are `None`, and each column says how many bars
//! its warm-up takes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Symbol};
use indicators::{Candle, Indicator, Line};
use market::{CacheStatus, UpstreamBudget};

use crate::{Service, ServiceError};

/// The most entries one series list may name (an entry may stand for several columns: all the
/// outputs of a multi-output indicator).
pub const MAX_SERIES_PER_CALL: usize = 16;

/// Which rows of the computed columns to answer: the last `last` trading days within
/// `from..=to` (either end open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub last: usize,
}

/// One output line of one indicator, for the rows asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub line: Line,
    /// Bars the indicator needs before its first value (TA-Lib's lookback): the first
    /// `warmup` bars of the whole history are `None`.
    pub warmup: usize,
    /// The first date with a value over the whole history (`None`: the history is shorter than
    /// the warm-up).
    pub first_date: Option<NaiveDate>,
    /// One value per row, `None` during the warm-up (never NaN or infinite).
    pub values: Vec<Option<f64>>,
}

/// The columns of a symbol's indicators for the rows asked for, with the history's provenance.
#[derive(Debug, Clone)]
pub struct IndicatorTable {
    pub symbol: Symbol,
    /// The trading day of each row, oldest first.
    pub dates: Vec<NaiveDate>,
    /// One per requested line, in the order asked.
    pub columns: Vec<Column>,
    /// Bars in the whole history the indicators ran over.
    pub history_bars: usize,
    /// The first bar's date of that history.
    pub history_start: Option<NaiveDate>,
    /// The provider the history came from.
    pub source: String,
    pub fetched_at: DateTime<Utc>,
    /// True when the provider is failing and the history is an older copy.
    pub stale: bool,
    /// True when every bar carried a split- and dividend-adjusted close, so the indicators ran
    /// on adjusted prices (see [`Candle::from_bar`]); false when some ran on prices as traded.
    pub adjusted: bool,
    /// How the read path answered (cache hit, load, stale copy).
    pub cache: CacheStatus,
}

/// Parses a comma-separated series list into the columns to compute, in the order written,
/// duplicates (by canonical name: `rsi` and `rsi:14` are one) dropped.
///
/// An entry naming an output (`macd:12:26:9.histogram`) is that one column; an entry naming
/// only an indicator (`macd:12:26:9`, `bbands:20:2`) stands for all its outputs.
pub fn parse_series(text: &str) -> Result<Vec<Line>, ServiceError> {
    let entries: Vec<&str> = text.split(',').map(str::trim).collect();
    if entries.iter().all(|entry| entry.is_empty()) {
        return Err(bad_series(format!(
            "series must name at least one indicator (for example `sma:50,rsi:14`); {}",
            names()
        )));
    }
    if entries.len() > MAX_SERIES_PER_CALL {
        return Err(bad_series(format!(
            "series may name at most {MAX_SERIES_PER_CALL} entries separated by commas, got {}",
            entries.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for entry in entries {
        if entry.is_empty() {
            return Err(bad_series(format!(
                "series has an empty entry (two commas in a row, or a trailing comma); {}",
                names()
            )));
        }
        let parsed: Vec<Line> = match entry.parse::<Indicator>() {
            Ok(indicator) => (0..indicator.outputs().len())
                .map(|output| Line { indicator, output })
                .collect(),
            // Not a bare indicator: an output line, whose error also covers a bad indicator.
            Err(_) => vec![entry.parse::<Line>().map_err(|err| {
                bad_series(format!(
                    "series `{}`: {err}",
                    entry.chars().take(40).collect::<String>()
                ))
            })?],
        };
        lines.extend(parsed.into_iter().filter(|line| seen.insert(*line)));
    }
    Ok(lines)
}

fn bad_series(detail: String) -> ServiceError {
    ServiceError::BadIndicator(detail)
}

/// `valid indicators: sma, ema, …` (the parameters are in the catalogue).
fn names() -> String {
    let names: Vec<&str> = Indicator::catalogue().iter().map(|i| i.name).collect();
    format!(
        "valid indicators: {} (with their parameters' ranges in the catalogue)",
        names.join(", ")
    )
}

impl Service {
    /// The `lines` of `symbol` for `rows`, computed over its whole daily history as the read
    /// path answers it (charging `budget` if a provider must be asked).
    pub async fn indicators(
        &self,
        symbol: Symbol,
        lines: &[Line],
        rows: Rows,
        budget: &dyn UpstreamBudget,
    ) -> Result<IndicatorTable, ServiceError> {
        let served = self.market().daily_with(symbol, budget).await?;
        let bars = served.value.bars();
        let range = row_range(bars, rows);
        let candles: Vec<Candle> = bars.iter().map(Candle::from_bar).collect();
        // Each indicator once, however many of its outputs are asked for. Inline on the async
        // worker: every indicator is O(bars) (a few thousand), microseconds per column.
        let mut computed: HashMap<Indicator, Vec<Vec<Option<f64>>>> = HashMap::new();
        let columns = lines
            .iter()
            .map(|line| {
                let outputs = computed
                    .entry(line.indicator)
                    .or_insert_with(|| line.indicator.batch(&candles));
                let whole = outputs.get(line.output).map_or(&[][..], Vec::as_slice);
                let finite = |value: Option<f64>| value.filter(|v| v.is_finite());
                Column {
                    line: *line,
                    warmup: line.indicator.warmup(),
                    first_date: whole
                        .iter()
                        .position(|value| finite(*value).is_some())
                        .map(|index| bars[index].date),
                    values: whole
                        .get(range.clone())
                        .unwrap_or_default()
                        .iter()
                        .map(|value| finite(*value))
                        .collect(),
                }
            })
            .collect();
        Ok(IndicatorTable {
            symbol,
            dates: bars[range].iter().map(|bar| bar.date).collect(),
            columns,
            history_bars: bars.len(),
            history_start: bars.first().map(|bar| bar.date),
            source: served.value.source.clone(),
            fetched_at: served.value.fetched_at,
            stale: served.cache == CacheStatus::Stale,
            adjusted: !bars.is_empty() && bars.iter().all(|bar| bar.adj_close.is_some()),
            cache: served.cache,
        })
    }
}

/// The indices of `bars` (oldest first) that `rows` selects.
fn row_range(bars: &[Bar], rows: Rows) -> std::ops::Range<usize> {
    let start = rows
        .from
        .map_or(0, |from| bars.partition_point(|bar| bar.date < from));
    let end = rows
        .to
        .map_or(bars.len(), |to| bars.partition_point(|bar| bar.date <= to));
    let end = end.max(start);
    start.max(end.saturating_sub(rows.last))..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(text: &str) -> Vec<String> {
        parse_series(text)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn refusal(text: &str) -> String {
        match parse_series(text) {
            Err(ServiceError::BadIndicator(detail)) => detail,
            other => panic!("{text}: expected a bad-indicator refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_bare_multi_output_indicator_stands_for_all_its_outputs_and_a_suffix_for_one() {
        assert_eq!(
            columns("macd:12:26:9, bbands:20:2.5.upper"),
            [
                "macd:12:26:9.macd",
                "macd:12:26:9.signal",
                "macd:12:26:9.histogram",
                "bbands:20:2.5.upper",
            ]
        );
    }

    #[test]
    fn duplicates_are_collapsed_by_canonical_name_in_the_order_first_written() {
        assert_eq!(
            columns("rsi,sma:50,rsi:14,macd.signal,macd:12:26:9"),
            [
                "rsi:14",
                "sma:50",
                "macd:12:26:9.signal",
                "macd:12:26:9.macd",
                "macd:12:26:9.histogram",
            ]
        );
    }

    #[test]
    fn a_bad_entry_is_named_with_every_valid_indicator() {
        for (text, names) in [
            ("sma:50,smaa:5", "unknown indicator `smaa`"),
            (
                "sma:1",
                "`sma` parameter `period` must be 2..=1000, got `1`",
            ),
            ("macd:26:12", "fast < slow"),
            ("macd.hist", "no output `hist`"),
        ] {
            let detail = refusal(text);
            assert!(detail.starts_with("series `"), "{detail}");
            assert!(detail.contains(names), "{text}: {detail}");
        }
        let detail = refusal("sma:1");
        assert!(
            detail.contains("volatility") && detail.contains("bbands"),
            "{detail}"
        );
    }

    #[test]
    fn empty_entries_and_too_many_entries_are_refused() {
        assert!(refusal("").contains("at least one"));
        assert!(refusal("sma:5,,ema:5").contains("empty entry"));
        let many = vec!["sma:5"; MAX_SERIES_PER_CALL + 1].join(",");
        assert!(refusal(&many).contains("at most 16"));
        assert_eq!(
            columns(&vec!["sma:5"; MAX_SERIES_PER_CALL].join(",")),
            ["sma:5"]
        );
    }

    #[test]
    fn rows_are_the_last_days_within_the_range() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let bars: Vec<Bar> = (2..=11)
            .map(|d| Bar {
                date: day(d),
                open: domain::Price::from_f64(1.0).unwrap(),
                high: domain::Price::from_f64(1.0).unwrap(),
                low: domain::Price::from_f64(1.0).unwrap(),
                close: domain::Price::from_f64(1.0).unwrap(),
                volume: 1,
                adj_close: None,
            })
            .collect();
        let rows = |from, to, last| Rows { from, to, last };
        assert_eq!(row_range(&bars, rows(None, None, 3)), 7..10);
        assert_eq!(row_range(&bars, rows(Some(day(4)), Some(day(6)), 99)), 2..5);
        assert_eq!(row_range(&bars, rows(Some(day(4)), Some(day(6)), 2)), 3..5);
        assert_eq!(row_range(&bars, rows(Some(day(20)), None, 5)), 10..10);
        assert_eq!(row_range(&bars, rows(Some(day(6)), Some(day(4)), 5)), 4..4);
    }
}
