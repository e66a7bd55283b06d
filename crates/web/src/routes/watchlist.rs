//! `/v1/me/watchlist`: the caller's watched symbols. A watched symbol is tracked (ingestion
//! keeps it fresh) while anyone watches it: `Store::tracked_symbols` includes every watchlist.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::Symbol;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;

/// A symbol on the caller's watchlist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedSymbolResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    pub added_at: DateTime<Utc>,
}

/// The caller's watchlist, in symbol order.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchlistResponse {
    pub symbols: Vec<WatchedSymbolResponse>,
}

fn response(watched: store::WatchedSymbol) -> WatchedSymbolResponse {
    WatchedSymbolResponse {
        symbol: watched.symbol,
        added_at: watched.added_at,
    }
}

/// The caller's watchlist.
#[utoipa::path(get, path = "/v1/me/watchlist", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Watched symbols", body = WatchlistResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_watchlist(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let symbols = state.market().store().watchlist(&caller.user.id).await?;
    Ok(Json(WatchlistResponse {
        symbols: symbols.into_iter().map(response).collect(),
    }))
}

/// Watches a symbol: 201 when added, 200 when it was on the list already.
#[utoipa::path(put, path = "/v1/me/watchlist/{symbol}", tag = "accounts",
    security(("bearer" = [])),
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    responses(
        (status = 201, description = "Added", body = WatchedSymbolResponse),
        (status = 200, description = "Was watched already", body = WatchedSymbolResponse),
        (status = 400, description = "Malformed symbol", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn watch_symbol(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let (watched, added) = state
        .market()
        .store()
        .watch(&caller.user.id, symbol, Utc::now())
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(response(watched))).into_response())
}

/// Stops watching a symbol: 204, or 404 when it was not on the caller's list.
#[utoipa::path(delete, path = "/v1/me/watchlist/{symbol}", tag = "accounts",
    security(("bearer" = [])),
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Malformed symbol", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not on the caller's watchlist", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unwatch_symbol(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(symbol): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    if state
        .market()
        .store()
        .unwatch(&caller.user.id, symbol)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "{symbol} is not on your watchlist"
        )))
    }
}
