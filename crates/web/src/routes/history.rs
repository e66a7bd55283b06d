//! End-of-day history: a session's bar, the change over a range, and several symbols in one
//! call.
//!
//! An end-of-day answer never passes an old bar off as a later session: `session_date` is the
//! bar's own, `sessions_behind` says how many NYSE sessions it lags the one asked for, and a day
//! after today (New York's, on the read path's clock) is refused. A window with no trading days
//! is an empty answer (200) on `/delta` as on `/daily`; an unknown symbol is 404 on both.

mod multi;

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Delta, Price, Symbol, TradingCalendar};
use market::CacheStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use multi::*;

use super::stocks::BarResponse;
use super::window::{WindowQuery, parse_date};
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::extract::{ApiPath, ApiQuery};
use crate::json::cached_json;
use crate::limits::PublicRead;

/// Which end of day to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EodQuery {
    /// The day to look up, `YYYY-MM-DD`, today or earlier (New York time). Default: today.
    /// It stands for its NYSE session once that has closed; on a weekend, a holiday, or today
    /// before the close, for the last session before it.
    #[param(value_type = Option<String>, format = Date)]
    date: Option<String>,
}

/// One session's bar, for the day asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct EodResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// The day asked about (default: today in New York).
    #[serde(serialize_with = "crate::json::date")]
    pub requested_date: NaiveDate,
    /// The NYSE session the asked day stands for: the day itself once its session has closed,
    /// else the last session before it.
    #[serde(serialize_with = "crate::json::date")]
    pub requested_session_date: NaiveDate,
    /// The session of the bar answered: the newest stored bar on or before
    /// `requested_session_date` (equal to it unless the store lacks that session).
    #[serde(serialize_with = "crate::json::date")]
    pub session_date: NaiveDate,
    /// NYSE sessions after `session_date` up to `requested_session_date`: 0 when the bar is
    /// the session asked for.
    pub sessions_behind: usize,
    /// The newest stored bar's date for this symbol.
    #[serde(serialize_with = "crate::json::date")]
    pub latest_stored_date: NaiveDate,
    /// The bar of `session_date`.
    pub bar: BarResponse,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
    /// True when the bar is not the session asked for (`sessions_behind` > 0), or when the
    /// provider is failing and this is an older copy.
    pub stale: bool,
}

/// The end-of-day bar of a symbol for a day (default today, New York time): on a weekend, a
/// holiday or before the day's close, the last session before it. When the store lacks that
/// session the newest earlier bar is answered with its own `session_date`, `sessions_behind`
/// and `stale: true`. A date after today is 400.
#[utoipa::path(get, path = "/v1/stocks/{symbol}/eod", tag = "history",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), EodQuery),
    responses((status = 200, description = "The bar and how far it is behind the session asked for", body = EodResponse), ReadErrors))]
pub async fn end_of_day(
    State(state): State<AppState>,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
    ApiQuery(query): ApiQuery<EodQuery>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let calendar = TradingCalendar::NYSE;
    let now = state.market().config().clock.now();
    let today = calendar.local_date(now);
    let requested_date = match query.date.as_deref() {
        Some(text) => parse_date("date", text)?,
        None => today,
    };
    let requested_session_date = if requested_date > today {
        return Err(ApiError::BadRequest(format!(
            "date {requested_date} is in the future (today is {today} in New York); ask for \
             {today} or an earlier day"
        )));
    } else if requested_date == today {
        calendar.latest_closed_session(now)
    } else {
        calendar.last_trading_day_on_or_before(requested_date)
    };
    let budget = state.upstream_budget(read);
    let served = state.market().daily_with(symbol, &budget).await?;
    let series = &served.value;
    let (Some(bar), Some(latest)) = (
        series.between(None, Some(requested_session_date)).last(),
        series.latest(),
    ) else {
        let first = series
            .bars()
            .first()
            .map_or_else(String::new, |b| format!("; history starts {}", b.date));
        return Err(ApiError::NotFound(format!(
            "no end-of-day bar for {symbol} on or before {requested_date}{first}"
        )));
    };
    let sessions_behind = calendar.sessions_after(bar.date, requested_session_date);
    let body = EodResponse {
        symbol,
        requested_date,
        requested_session_date,
        session_date: bar.date,
        sessions_behind,
        latest_stored_date: latest.date,
        bar: bar.into(),
        source: series.source.clone(),
        fetched_at: series.fetched_at,
        stale: sessions_behind > 0 || served.cache == CacheStatus::Stale,
    };
    cached_json(&body, 640, served.cache)
}

/// How a symbol moved over a window. A window without trading days (a weekend, a range
/// outside the stored history) has `trading_days: 0` and every other figure `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeltaResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<f64>)]
    pub start_close: Option<Price>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<NaiveDate>,
    #[schema(value_type = Option<f64>)]
    pub end_close: Option<Price>,
    /// `end_close - start_close`.
    #[schema(value_type = Option<f64>)]
    pub change: Option<Price>,
    /// The change in percent of the start close, rounded to 4 decimals.
    pub change_percent: Option<f64>,
    /// Highest high and lowest low over the window.
    #[schema(value_type = Option<f64>)]
    pub high: Option<Price>,
    #[schema(value_type = Option<f64>)]
    pub low: Option<Price>,
    /// The largest fall from a running peak close, in percent of the peak (4 decimals).
    pub max_drawdown_percent: Option<f64>,
    /// Trading days in the window, both ends included (0: an empty window).
    pub trading_days: usize,
    pub source: String,
    pub stale: bool,
}

/// The change of a symbol over the last `days` trading days or a `from`/`to` range (a window
/// without trading days answers `trading_days: 0` with null figures, as `/daily` answers
/// `count: 0`).
#[utoipa::path(get, path = "/v1/stocks/{symbol}/delta", tag = "history",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT"), WindowQuery),
    responses((status = 200, description = "Change over the window (empty when it has no trading days)", body = DeltaResponse), ReadErrors))]
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
    let bars = window.select(&served.value);
    let delta = match bars {
        [] => None,
        bars => Some(
            Delta::over(bars)
                .ok_or(ApiError::Internal("a window's change does not fit a price"))?,
        ),
    };
    let round4 = |value: f64| (value * 10_000.0).round() / 10_000.0;
    let field = |get: fn(&Delta) -> Price| delta.as_ref().map(get);
    let body = DeltaResponse {
        symbol,
        start_date: delta.as_ref().map(|d| d.start_date),
        start_close: field(|d| d.start_close),
        end_date: delta.as_ref().map(|d| d.end_date),
        end_close: field(|d| d.end_close),
        change: field(|d| d.change),
        change_percent: delta.as_ref().map(|d| round4(d.change_percent)),
        high: field(|d| d.high),
        low: field(|d| d.low),
        max_drawdown_percent: delta.as_ref().map(|d| round4(d.max_drawdown_percent)),
        trading_days: delta.as_ref().map_or(0, |d| d.trading_days),
        source: served.value.source.clone(),
        stale: served.cache == CacheStatus::Stale,
    };
    cached_json(&body, 384, served.cache)
}
