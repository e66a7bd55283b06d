//! The seed-compatible routes: `/`, `/{symbol}`, `/{symbol}/{days}` answer
//! `{"symbol","ndays","prices":[{"date","close"}],"average"}` with prices newest first.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use domain::{Price, Series, Symbol};
use serde::Serialize;
use utoipa::ToSchema;

use super::{parse_days, with_cache_status};
use crate::AppState;
use crate::error::{ApiError, ReadErrors};
use crate::extract::ApiPath;

/// The last N closing prices of a symbol and their average.
#[derive(Debug, Serialize, ToSchema)]
pub struct PricesResponse {
    /// The symbol, upper case.
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// Number of prices returned (fewer than asked when fewer trading days exist).
    pub ndays: usize,
    /// Closing prices, newest first.
    pub prices: Vec<ClosePrice>,
    /// Mean of the returned closes.
    #[schema(value_type = Option<f64>, example = 27.59)]
    pub average: Option<Price>,
}

/// One trading day's close.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosePrice {
    pub date: NaiveDate,
    #[schema(value_type = f64, example = 27.95)]
    pub close: Price,
}

/// The default symbol over the default number of days (`SYMBOL`, `NDAYS`).
#[utoipa::path(get, path = "/", tag = "prices",
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse,
            headers(("x-stockd-cache" = String, description = "hit, miss or stale"))),
        ReadErrors,
    ))]
pub async fn default_prices(State(state): State<AppState>) -> Result<Response, ApiError> {
    let defaults = &state.config().defaults;
    prices(&state, defaults.symbol, defaults.days as usize).await
}

/// A symbol over the default number of days (`NDAYS`).
#[utoipa::path(get, path = "/{symbol}", tag = "prices",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT (case-insensitive)")),
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse),
        ReadErrors,
    ))]
pub async fn symbol_prices(
    State(state): State<AppState>,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    prices(&state, symbol, state.config().defaults.days as usize).await
}

/// A symbol over the last `days` trading days.
#[utoipa::path(get, path = "/{symbol}/{days}", tag = "prices",
    params(
        ("symbol" = String, Path, description = "Ticker, e.g. MSFT (case-insensitive)"),
        ("days" = u32, Path, description = "Trading days, 1 to the configured maximum (default 5000)"),
    ),
    responses(
        (status = 200, description = "Closing prices and their average", body = PricesResponse),
        ReadErrors,
    ))]
pub async fn symbol_days_prices(
    State(state): State<AppState>,
    ApiPath((symbol, days)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let days = parse_days(&days, state.config().max_days)?;
    prices(&state, symbol, days).await
}

async fn prices(state: &AppState, symbol: Symbol, days: usize) -> Result<Response, ApiError> {
    let served = state.market().daily(symbol).await?;
    let window = served.value.last_days(days);
    let body = PricesResponse {
        symbol,
        ndays: window.len(),
        prices: window
            .iter()
            .rev()
            .map(|bar| ClosePrice {
                date: bar.date,
                close: bar.close,
            })
            .collect(),
        average: Series::average_close(window),
    };
    Ok(with_cache_status(Json(body), served.cache))
}
