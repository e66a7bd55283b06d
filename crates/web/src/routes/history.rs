//! End-of-day history: the latest session's bar, the change over a range, and several symbols
//! in one call.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Delta, Price, Symbol, TradingCalendar};
use market::CacheStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::stocks::{BarResponse, DailyResponse};
use super::window::{WindowQuery, parse_date};
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::extract::{ApiPath, ApiQuery};
use crate::json::cached_json;
use crate::limits::PublicRead;

/// The most symbols one `/v1/daily` call may ask for.
pub const MAX_SYMBOLS_PER_CALL: usize = 20;

/// Which end of day to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EodQuery {
    /// The day to look up, `YYYY-MM-DD` (default: today). On a weekend or holiday the last
    /// session before it is used.
    #[param(value_type = Option<String>, format = Date)]
    date: Option<String>,
}

/// One session's bar, for the day asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct EodResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The day asked about.
    #[serde(serialize_with = "crate::json::date")]
    pub requested_date: NaiveDate,
    /// The NYSE session that day falls back to (itself on a trading day).
    #[serde(serialize_with = "crate::json::date")]
    pub session_date: NaiveDate,
    /// The bar of the latest stored session on or before `session_date`.
    pub bar: BarResponse,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
    pub stale: bool,
}

/// The end-of-day bar of a symbol for a day: on a weekend or holiday, the last session before it.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/eod", tag = "history",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), EodQuery),
    responses((status = 200, description = "The session's bar", body = EodResponse), ReadErrors))]
pub async fn end_of_day(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<EodQuery>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let requested_date = match query.date.as_deref() {
        Some(text) => parse_date("date", text)?,
        None => Utc::now().date_naive(),
    };
    let session_date = TradingCalendar::NYSE.last_trading_day_on_or_before(requested_date);
    let budget = state.upstream_budget(read);
    let served = state.market().daily_with(symbol, &budget).await?;
    let series = &served.value;
    let bar = series
        .between(None, Some(session_date))
        .last()
        .ok_or_else(|| {
            let first = series
                .bars()
                .first()
                .map_or_else(String::new, |b| format!("; history starts {}", b.date));
            ApiError::NotFound(format!(
                "no end-of-day bar for {symbol} on or before {requested_date}{first}"
            ))
        })?;
    let body = EodResponse {
        symbol,
        requested_date,
        session_date,
        bar: bar.into(),
        source: series.source.clone(),
        fetched_at: series.fetched_at,
        stale: served.cache == CacheStatus::Stale,
    };
    cached_json(&body, 512, served.cache)
}

/// How a symbol moved over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeltaResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[serde(serialize_with = "crate::json::date")]
    pub start_date: NaiveDate,
    #[schema(value_type = f64)]
    pub start_close: Price,
    #[serde(serialize_with = "crate::json::date")]
    pub end_date: NaiveDate,
    #[schema(value_type = f64)]
    pub end_close: Price,
    /// `end_close - start_close`.
    #[schema(value_type = f64)]
    pub change: Price,
    /// The change in percent of the start close, rounded to 4 decimals.
    pub change_percent: f64,
    /// Highest high and lowest low over the window.
    #[schema(value_type = f64)]
    pub high: Price,
    #[schema(value_type = f64)]
    pub low: Price,
    /// The largest fall from a running peak close, in percent of the peak (4 decimals).
    pub max_drawdown_percent: f64,
    /// Trading days in the window, both ends included.
    pub trading_days: usize,
    pub source: String,
    pub stale: bool,
}

/// The change of a symbol over the last `days` trading days or a `from`/`to` range.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/delta", tag = "history",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), WindowQuery),
    responses((status = 200, description = "Change over the window", body = DeltaResponse), ReadErrors))]
pub async fn price_delta(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<WindowQuery>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let window = query.resolve(state.config())?;
    let budget = state.upstream_budget(read);
    let served = state.market().daily_with(symbol, &budget).await?;
    let delta = Delta::over(window.select(&served.value))
        .ok_or_else(|| ApiError::NotFound(format!("{symbol} has no trading days in that range")))?;
    let round4 = |value: f64| (value * 10_000.0).round() / 10_000.0;
    let body = DeltaResponse {
        symbol,
        start_date: delta.start_date,
        start_close: delta.start_close,
        end_date: delta.end_date,
        end_close: delta.end_close,
        change: delta.change,
        change_percent: round4(delta.change_percent),
        high: delta.high,
        low: delta.low,
        max_drawdown_percent: round4(delta.max_drawdown_percent),
        trading_days: delta.trading_days,
        source: served.value.source.clone(),
        stale: served.cache == CacheStatus::Stale,
    };
    cached_json(&body, 384, served.cache)
}

/// Several symbols at once.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MultiQuery {
    /// Comma-separated tickers, at most 20 (`MSFT,AAPL,IBM`).
    symbols: String,
    /// The last N trading days (of the `from`/`to` range when given); default `NDAYS`.
    #[param(value_type = Option<u32>, minimum = 1)]
    days: Option<String>,
    /// First trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last trading day to include, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// One symbol that could not be served in a multi-symbol call.
#[derive(Debug, Serialize, ToSchema)]
pub struct SymbolError {
    pub symbol: String,
    /// The HTTP status this symbol alone would have answered.
    pub status: u16,
    pub detail: String,
}

/// Bars of several symbols; symbols that failed are listed with why.
#[derive(Debug, Serialize, ToSchema)]
pub struct MultiDailyResponse {
    pub results: Vec<DailyResponse>,
    pub errors: Vec<SymbolError>,
}

/// Daily bars of several symbols in one call (fetched concurrently; one failing symbol does
/// not fail the others).
#[utoipa::path(get, path = "/v1/daily", tag = "history",
    params(MultiQuery),
    responses((status = 200, description = "Per-symbol bars and errors", body = MultiDailyResponse), ReadErrors))]
pub async fn multi_daily(
    State(state): State<AppState>,
    read: PublicRead,
    ApiQuery(query): ApiQuery<MultiQuery>,
) -> Result<Response, ApiError> {
    let window = WindowQuery {
        days: query.days,
        limit: None,
        from: query.from,
        to: query.to,
    }
    .resolve(state.config())?;
    let mut symbols: Vec<Symbol> = query
        .symbols
        .split(',')
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(Symbol::parse)
        .collect::<Result<_, _>>()?;
    symbols.sort();
    symbols.dedup();
    if symbols.is_empty() || symbols.len() > MAX_SYMBOLS_PER_CALL {
        return Err(ApiError::BadRequest(format!(
            "symbols must list 1 to {MAX_SYMBOLS_PER_CALL} tickers separated by commas, got {}",
            symbols.len()
        )));
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut task_symbols = std::collections::HashMap::new();
    for symbol in symbols {
        let state = state.clone();
        let task = tasks.spawn(async move {
            let budget = state.upstream_budget(read);
            (symbol, state.market().daily_with(symbol, &budget).await)
        });
        task_symbols.insert(task.id(), symbol);
    }
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    let mut cache = CacheStatus::Hit;
    while let Some(joined) = tasks.join_next().await {
        let (symbol, outcome) = match joined {
            Ok(done) => done,
            Err(failed) => {
                // A load that panicked is a bug; its symbol is still reported, never dropped.
                tracing::error!(error = %failed, "loading one symbol of a multi-symbol call failed");
                let symbol = task_symbols
                    .get(&failed.id())
                    .map_or_else(String::new, Symbol::to_string);
                errors.push(SymbolError {
                    symbol,
                    status: 500,
                    detail: "stockd failed while loading this symbol; the error was logged".into(),
                });
                continue;
            }
        };
        match outcome {
            Ok(served) => {
                // The combined header: stale if any answer is, else miss if any was loaded.
                cache = match (cache, served.cache) {
                    (CacheStatus::Stale, _) | (_, CacheStatus::Stale) => CacheStatus::Stale,
                    (CacheStatus::Miss, _) | (_, CacheStatus::Miss) => CacheStatus::Miss,
                    _ => CacheStatus::Hit,
                };
                results.push(DailyResponse::new(
                    symbol,
                    &served,
                    window.select(&served.value),
                ));
            }
            Err(err) => {
                let (status, detail) = ApiError::from(err).status_and_detail();
                errors.push(SymbolError {
                    symbol: symbol.to_string(),
                    status,
                    detail,
                });
            }
        }
    }
    results.sort_by_key(|r| r.symbol);
    errors.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    let size = 256 + results.iter().map(|r| 128 * r.bars.len()).sum::<usize>();
    cached_json(&MultiDailyResponse { results, errors }, size, cache)
}
