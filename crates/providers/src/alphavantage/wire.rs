//! Alpha Vantage's JSON shapes and their translation into domain bars and quotes.
//!
//! Field names are Alpha Vantage's, numbered and spaced as sent (`"1. open"`). Every number
//! arrives as a string and goes straight into [`Price`] without passing through `f64`.
//! Reference: <https://www.alphavantage.co/documentation/>.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Quote, Symbol};
use serde::Deserialize;

use super::{NAME, classify};
use crate::ProviderError;
use crate::parse::parse_volume;

/// The keys Alpha Vantage uses to refuse a request, all sent with HTTP 200 and no other key.
///
/// ```json
/// {"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}
/// {"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day. ..."}
/// {"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. ..."}
/// ```
///
/// See <https://www.alphavantage.co/documentation/>.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Refusal {
    #[serde(rename = "Error Message")]
    pub error_message: Option<String>,
    #[serde(rename = "Note")]
    pub note: Option<String>,
    #[serde(rename = "Information")]
    pub information: Option<String>,
}

/// A `TIME_SERIES_DAILY` answer: a refusal, or daily rows keyed by date (unordered).
///
/// ```json
/// {
///   "Meta Data": {"2. Symbol": "IBM", "4. Output Size": "Compact", "5. Time Zone": "US/Eastern"},
///   "Time Series (Daily)": {
///     "2024-01-05": {"1. open": "161.5900", "2. high": "162.2800", "3. low": "160.5400",
///                    "4. close": "161.4100", "5. volume": "3963700"}
///   }
/// }
/// ```
///
/// See <https://www.alphavantage.co/documentation/#daily>.
#[derive(Debug, Deserialize)]
pub(super) struct DailyResponse {
    #[serde(flatten)]
    pub refusal: Refusal,
    #[serde(rename = "Time Series (Daily)")]
    pub series: Option<BTreeMap<String, DailyRow>>,
}

/// One day of `Time Series (Daily)`; prices are unadjusted.
///
/// ```json
/// {"1. open": "161.5900", "2. high": "162.2800", "3. low": "160.5400", "4. close": "161.4100", "5. volume": "3963700"}
/// ```
#[derive(Debug, Deserialize)]
pub(super) struct DailyRow {
    #[serde(rename = "1. open")]
    open: String,
    #[serde(rename = "2. high")]
    high: String,
    #[serde(rename = "3. low")]
    low: String,
    #[serde(rename = "4. close")]
    close: String,
    #[serde(rename = "5. volume")]
    volume: String,
}

/// A `GLOBAL_QUOTE` answer: a refusal, or the quote's fields (`{}` for an unknown symbol).
///
/// ```json
/// {"Global Quote": {"01. symbol": "IBM", "05. price": "161.4100",
///                   "07. latest trading day": "2024-01-05", "08. previous close": "161.6600"}}
/// ```
///
/// The fields stay a map so that the empty object is told apart from a quote missing a field.
/// See <https://www.alphavantage.co/documentation/#latestprice>.
#[derive(Debug, Deserialize)]
pub(super) struct QuoteResponse {
    #[serde(flatten)]
    pub refusal: Refusal,
    #[serde(rename = "Global Quote")]
    pub quote: Option<BTreeMap<String, String>>,
}

/// The rows that make valid bars. Invalid rows are skipped with a warning: one bad day from
/// upstream should not hide the rest of the history.
pub(super) fn bars(rows: BTreeMap<String, DailyRow>, symbol: Symbol) -> Vec<Bar> {
    rows.iter()
        .filter_map(|(date, row)| match row.to_bar(date) {
            Ok(bar) => Some(bar),
            Err(reason) => {
                tracing::warn!(provider = NAME, %symbol, date, reason, "skipping invalid daily row");
                None
            }
        })
        .collect()
}

impl DailyRow {
    fn to_bar(&self, date: &str) -> Result<Bar, String> {
        let date: NaiveDate = date
            .parse()
            .map_err(|_| format!("'{date}' is not a date"))?;
        let volume = parse_volume(&self.volume)
            .ok_or_else(|| format!("volume '{}' is not a whole number", self.volume))?;
        Bar::new_checked(
            date,
            price(&self.open)?,
            price(&self.high)?,
            price(&self.low)?,
            price(&self.close)?,
            volume,
            None,
        )
        .map_err(|error| error.to_string())
    }
}

/// The quote in a non-empty `Global Quote` object.
pub(super) fn quote(
    fields: &BTreeMap<String, String>,
    symbol: Symbol,
    fetched_at: DateTime<Utc>,
) -> Result<Quote, ProviderError> {
    let field = |name: &str| {
        fields
            .get(name)
            .ok_or_else(|| classify::malformed(format_args!("Global Quote has no '{name}'")))
    };
    let price_of =
        |name: &str| field(name).and_then(|text| price(text).map_err(classify::malformed));
    let price = price_of("05. price")?;
    // A first-day listing may have no previous close; a present but broken one is malformed.
    let previous_close = match fields.get("08. previous close") {
        Some(_) => Some(price_of("08. previous close")?),
        None => None,
    };
    let day_text = field("07. latest trading day")?;
    let trading_day = day_text.parse::<NaiveDate>().map_err(|_| {
        classify::malformed(format_args!(
            "latest trading day '{day_text}' is not a date"
        ))
    })?;
    Ok(Quote {
        symbol,
        price,
        previous_close,
        trading_day,
        as_of: None,
        source: NAME.to_owned(),
        fetched_at,
    })
}

fn price(text: &str) -> Result<Price, String> {
    text.parse()
        .map_err(|error: domain::PriceError| error.to_string())
}
