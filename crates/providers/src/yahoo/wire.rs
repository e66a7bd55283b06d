//! Yahoo's chart JSON and its translation into domain bars and quotes.
//!
//! The chart is columnar: one `timestamp` array and, under `indicators`, one array per field,
//! index-aligned, with `null` where there was no trading. Prices are JSON numbers, captured as
//! raw text ([`JsonPrice`]) and parsed exactly.
//!
//! Trading days: daily timestamps are the session open in UTC seconds (09:30 New York is 14:30
//! or 13:30 UTC). The date is taken after adding the chart's `meta.gmtoffset`. That offset is
//! the exchange's *current* one, so for bars on the other side of a DST change it is an hour
//! off, which cannot move a session open (or the day's last trade) across midnight.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Bar, Quote, Symbol, new_york};
use serde::Deserialize;

use super::NAME;
use crate::ProviderError;
use crate::http::malformed;
use crate::json_number::{JsonPrice, JsonVolume};

/// The chart envelope: a result or an error, the other `null`.
///
/// ```json
/// {"chart": {"result": [{"meta": {…}, "timestamp": […], "indicators": {…}}], "error": null}}
/// {"chart": {"result": null, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}}
/// ```
#[derive(Debug, Deserialize)]
pub(super) struct ChartResponse {
    pub chart: Chart,
}

#[derive(Debug, Deserialize)]
pub(super) struct Chart {
    pub result: Option<Vec<ChartResult>>,
    pub error: Option<ChartError>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChartError {
    pub code: String,
    pub description: Option<String>,
}

/// One symbol's chart.
#[derive(Debug, Deserialize)]
pub(super) struct ChartResult {
    pub meta: Meta,
    /// Absent when the range holds no trading at all.
    #[serde(default)]
    timestamp: Vec<i64>,
    indicators: Option<Indicators>,
}

/// The fields of `meta` we use.
///
/// ```json
/// {"symbol": "AAPL", "regularMarketTime": 1704488400, "gmtoffset": -18000,
///  "exchangeTimezoneName": "America/New_York", "regularMarketPrice": 181.18,
///  "chartPreviousClose": 192.53, "priceHint": 2}
/// ```
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Meta {
    regular_market_price: Option<JsonPrice>,
    regular_market_time: Option<i64>,
    /// Sent by some chart answers; preferred over `chartPreviousClose` when present.
    previous_close: Option<JsonPrice>,
    chart_previous_close: Option<JsonPrice>,
    /// Seconds east of UTC, e.g. -18000 for New York in winter.
    #[serde(rename = "gmtoffset")]
    gmt_offset: Option<i64>,
    /// The exchange's IANA zone, used when `gmtoffset` is missing and the zone is New York.
    exchange_timezone_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Indicators {
    #[serde(default)]
    quote: Vec<Columns>,
    #[serde(default)]
    adjclose: Vec<AdjCloseColumn>,
}

#[derive(Debug, Default, Deserialize)]
struct Columns {
    #[serde(default)]
    open: Vec<Option<JsonPrice>>,
    #[serde(default)]
    high: Vec<Option<JsonPrice>>,
    #[serde(default)]
    low: Vec<Option<JsonPrice>>,
    #[serde(default)]
    close: Vec<Option<JsonPrice>>,
    #[serde(default)]
    volume: Vec<Option<JsonVolume>>,
}

#[derive(Debug, Deserialize)]
struct AdjCloseColumn {
    #[serde(default)]
    adjclose: Vec<Option<JsonPrice>>,
}

impl Meta {
    /// The exchange-local date at `seconds` after the UNIX epoch.
    fn local_date(&self, seconds: i64) -> Result<NaiveDate, ProviderError> {
        let instant = DateTime::<Utc>::from_timestamp(seconds, 0)
            .ok_or_else(|| malformed(NAME, format_args!("timestamp {seconds} is out of range")))?;
        match (self.gmt_offset, self.exchange_timezone_name.as_deref()) {
            (Some(offset), _) => Ok((instant + Duration::seconds(offset)).date_naive()),
            (None, Some("America/New_York")) => Ok(new_york::date_of(instant)),
            // Only New York time is known here; no US-listed chart lacks gmtoffset.
            (None, zone) => Err(malformed(
                NAME,
                format_args!("meta has no gmtoffset (exchange zone {zone:?})"),
            )),
        }
    }
}

/// The chart's complete rows as bars, oldest first. Rows with a `null` price or volume
/// (holidays, halts) are skipped quietly, inconsistent ones with a warning; none at all is
/// `NoData`.
pub(super) fn bars(chart: ChartResult, symbol: Symbol) -> Result<Vec<Bar>, ProviderError> {
    let ChartResult {
        meta,
        timestamp,
        indicators,
    } = chart;
    if timestamp.is_empty() {
        return Err(ProviderError::NoData {
            provider: NAME,
            symbol,
        });
    }
    let (columns, adjclose) = match indicators {
        Some(Indicators { quote, adjclose }) => (
            quote.into_iter().next().unwrap_or_default(),
            adjclose.into_iter().next().map(|column| column.adjclose),
        ),
        None => (Columns::default(), None),
    };
    let at = |column: &[Option<JsonPrice>], i: usize| column.get(i).copied().flatten().map(|p| p.0);
    let mut bars = Vec::with_capacity(timestamp.len());
    for (i, seconds) in timestamp.iter().copied().enumerate() {
        let row = (
            at(&columns.open, i),
            at(&columns.high, i),
            at(&columns.low, i),
            at(&columns.close, i),
            columns.volume.get(i).copied().flatten(),
        );
        let (Some(open), Some(high), Some(low), Some(close), Some(volume)) = row else {
            continue;
        };
        let adj_close = adjclose.as_deref().and_then(|column| at(column, i));
        let date = meta.local_date(seconds)?;
        match Bar::new_checked(date, open, high, low, close, volume.0, adj_close) {
            Ok(bar) => bars.push(bar),
            Err(error) => {
                tracing::warn!(provider = NAME, %symbol, %date, reason = %error, "skipping invalid daily row");
            }
        }
    }
    if bars.is_empty() {
        return Err(ProviderError::NoData {
            provider: NAME,
            symbol,
        });
    }
    Ok(bars)
}

/// The quote in a chart's `meta`.
pub(super) fn quote(
    meta: &Meta,
    symbol: Symbol,
    fetched_at: DateTime<Utc>,
) -> Result<Quote, ProviderError> {
    let price = meta
        .regular_market_price
        .ok_or_else(|| malformed(NAME, "meta has no regularMarketPrice"))?;
    let time = meta
        .regular_market_time
        .ok_or_else(|| malformed(NAME, "meta has no regularMarketTime"))?;
    let as_of = DateTime::from_timestamp(time, 0).ok_or_else(|| {
        malformed(
            NAME,
            format_args!("regularMarketTime {time} is out of range"),
        )
    })?;
    Ok(Quote {
        symbol,
        price: price.0,
        previous_close: meta
            .previous_close
            .or(meta.chart_previous_close)
            .map(|p| p.0),
        trading_day: meta.local_date(time)?,
        as_of: Some(as_of),
        source: NAME.to_owned(),
        fetched_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn meta(json: &str) -> Meta {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn without_gmtoffset_a_new_york_exchange_uses_new_york_time() {
        // 2024-07-01 00:30 UTC is still June 30 in New York (EDT).
        let seconds = 1_719_793_800;
        let new_york = meta(r#"{"exchangeTimezoneName": "America/New_York"}"#);
        assert_eq!(
            new_york.local_date(seconds).unwrap().to_string(),
            "2024-06-30"
        );
        let tokyo = meta(r#"{"exchangeTimezoneName": "Asia/Tokyo"}"#);
        assert!(tokyo.local_date(seconds).is_err());
        let offset = meta(r#"{"gmtoffset": 32400}"#);
        assert_eq!(
            offset.local_date(seconds).unwrap().to_string(),
            "2024-07-01"
        );
    }
}
