//! `/v1/stocks/{symbol}/…`: daily OHLCV bars with provenance, and the latest quote.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Series, Symbol};
use market::{CacheStatus, Served};
use serde::Serialize;
use utoipa::ToSchema;

use super::window::WindowQuery;
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::extract::{ApiPath, ApiQuery};
use crate::json::cached_json;
use crate::limits::PublicRead;

/// Daily bars of one symbol with their provenance.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The provider the bars came from (`sample`, `alphavantage`, …).
    pub source: String,
    /// When stockd fetched them from that provider.
    pub fetched_at: DateTime<Utc>,
    /// True when the provider is failing and this is an older copy.
    pub stale: bool,
    /// Number of bars returned.
    pub count: usize,
    /// Mean close of the returned bars.
    #[schema(value_type = Option<f64>)]
    pub average_close: Option<Price>,
    /// Bars, oldest first.
    pub bars: Vec<BarResponse>,
}

/// One trading day.
#[derive(Debug, Serialize, ToSchema)]
pub struct BarResponse {
    #[serde(serialize_with = "crate::json::date")]
    pub date: NaiveDate,
    #[schema(value_type = f64)]
    pub open: Price,
    #[schema(value_type = f64)]
    pub high: Price,
    #[schema(value_type = f64)]
    pub low: Price,
    #[schema(value_type = f64)]
    pub close: Price,
    pub volume: u64,
    /// Split- and dividend-adjusted close, when the provider gives one.
    #[schema(value_type = Option<f64>)]
    pub adj_close: Option<Price>,
}

impl DailyResponse {
    /// The response for `bars` of a served series.
    pub(crate) fn new(symbol: Symbol, served: &Served<Series>, bars: &[Bar]) -> Self {
        Self {
            symbol,
            source: served.value.source.clone(),
            fetched_at: served.value.fetched_at,
            stale: served.cache == CacheStatus::Stale,
            count: bars.len(),
            average_close: Series::average_close(bars),
            bars: bars.iter().map(BarResponse::from).collect(),
        }
    }
}

impl From<&Bar> for BarResponse {
    fn from(bar: &Bar) -> Self {
        Self {
            date: bar.date,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            adj_close: bar.adj_close,
        }
    }
}

/// Daily OHLCV bars for a symbol: the last `days`, or a `from`/`to` range.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/daily", tag = "stocks",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), WindowQuery),
    responses(
        (status = 200, description = "Bars with provenance", body = DailyResponse),
        ReadErrors,
    ))]
pub async fn daily_bars(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let window = query.resolve(state.config())?;
    let budget = state.upstream_budget(read);
    let served = state.market().daily_with(symbol, &budget).await?;
    let series = &served.value;
    let window = window.select(series);
    let body = DailyResponse::new(symbol, &served, window);
    cached_json(&body, 192 + 128 * body.bars.len(), served.cache)
}

/// The latest price of a symbol.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[schema(value_type = f64)]
    pub price: Price,
    #[schema(value_type = Option<f64>)]
    pub previous_close: Option<Price>,
    /// `price - previous_close`.
    #[schema(value_type = Option<f64>)]
    pub change: Option<Price>,
    /// The change in percent of the previous close, rounded to 4 decimals.
    pub change_percent: Option<f64>,
    /// The exchange-local trading day of the price.
    #[serde(serialize_with = "crate::json::date")]
    pub trading_day: NaiveDate,
    /// The provider's timestamp of the price, when it gives one.
    pub as_of: Option<DateTime<Utc>>,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
    /// True when the provider is failing and this is an older copy.
    pub stale: bool,
}

/// The latest quote for a symbol.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/quote", tag = "stocks",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    responses(
        (status = 200, description = "Latest quote", body = QuoteResponse),
        ReadErrors,
    ))]
pub async fn latest_quote(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let budget = state.upstream_budget(read);
    let served = state.market().quote_with(symbol, &budget).await?;
    let quote = &served.value;
    let body = QuoteResponse {
        symbol,
        price: quote.price,
        previous_close: quote.previous_close,
        change: quote.change(),
        change_percent: quote
            .change_percent()
            .map(|pct| (pct * 10_000.0).round() / 10_000.0),
        trading_day: quote.trading_day,
        as_of: quote.as_of,
        source: quote.source.clone(),
        fetched_at: quote.fetched_at,
        stale: served.cache == CacheStatus::Stale,
    };
    cached_json(&body, 320, served.cache)
}
