//! Polygon's aggregates JSON and its translation into domain bars and quotes.
//!
//! Prices are JSON numbers, captured as raw text ([`JsonPrice`]) and parsed exactly; volumes
//! may arrive as integral decimals (`82488700.0`), which [`JsonVolume`] accepts.

use chrono::{DateTime, Utc};
use domain::{Bar, Quote, Symbol, new_york};
use serde::Deserialize;

use super::NAME;
use crate::ProviderError;
use crate::http::malformed;
use crate::json_number::{JsonPrice, JsonVolume};

/// An aggregates (`/range/…`) or previous-close (`/prev`) answer, once `classify.rs` has read
/// its `status` (refusals carry only `status` and `error` or `message`). An empty range has `resultsCount: 0` and no
/// `results`.
///
/// ```json
/// {"ticker": "AAPL", "queryCount": 2, "resultsCount": 2, "adjusted": false,
///  "results": [{"v": 82488700, "vw": 185.9, "o": 187.15, "c": 185.64, "h": 188.44, "l": 183.89,
///               "t": 1704171600000, "n": 1008871}],
///  "status": "OK", "request_id": "6a7e466379af0a71039d60cc78e72282", "count": 2}
/// ```
#[derive(Debug, Deserialize)]
pub(super) struct AggsResponse {
    #[serde(default)]
    results: Vec<Agg>,
}

/// One daily aggregate: `t` is the window start (00:00 New York) in UNIX milliseconds.
#[derive(Debug, Deserialize)]
struct Agg {
    o: JsonPrice,
    h: JsonPrice,
    l: JsonPrice,
    c: JsonPrice,
    v: JsonVolume,
    t: i64,
}

impl Agg {
    fn to_bar(&self) -> Result<Bar, String> {
        let date = new_york::date_of_millis(self.t)
            .ok_or_else(|| format!("timestamp {} is out of range", self.t))?;
        Bar::new_checked(date, self.o.0, self.h.0, self.l.0, self.c.0, self.v.0, None)
            .map_err(|error| error.to_string())
    }
}

/// The valid bars of an aggregates answer. Invalid rows are skipped with a warning (one bad day
/// should not hide the rest); none at all is `NoData`.
pub(super) fn bars(body: AggsResponse, symbol: Symbol) -> Result<Vec<Bar>, ProviderError> {
    if body.results.is_empty() {
        // Polygon answers an unknown ticker exactly like an empty range, so this cannot say
        // which it was.
        return Err(ProviderError::NoData {
            provider: NAME,
            symbol,
        });
    }
    let row_count = body.results.len();
    let bars: Vec<Bar> = body
        .results
        .iter()
        .filter_map(|agg| match agg.to_bar() {
            Ok(bar) => Some(bar),
            Err(reason) => {
                tracing::warn!(provider = NAME, %symbol, t = agg.t, reason, "skipping invalid daily row");
                None
            }
        })
        .collect();
    if bars.is_empty() {
        return Err(ProviderError::Upstream {
            provider: NAME,
            detail: format!("none of the {row_count} daily rows for {symbol} is a valid bar"),
        });
    }
    Ok(bars)
}

/// The previous session's close as a quote: no previous close of its own, no intraday time.
pub(super) fn previous_close(
    body: AggsResponse,
    symbol: Symbol,
    fetched_at: DateTime<Utc>,
) -> Result<Quote, ProviderError> {
    let Some(agg) = body.results.last() else {
        return Err(ProviderError::NoData {
            provider: NAME,
            symbol,
        });
    };
    let trading_day = new_york::date_of_millis(agg.t)
        .ok_or_else(|| malformed(NAME, format_args!("timestamp {} is out of range", agg.t)))?;
    Ok(Quote {
        symbol,
        price: agg.c.0,
        previous_close: None,
        trading_day,
        // `t` is the session's start, not the time of the price; claiming it would mislead.
        as_of: None,
        source: NAME.to_owned(),
        fetched_at,
    })
}
