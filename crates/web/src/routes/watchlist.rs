//! `/v1/me/watchlist`: the caller's watched symbols. A watched symbol is tracked (ingestion
//! keeps it fresh) while anyone watches it, so a symbol is watched only once it is known, and a
//! user watches at most `max_watched_symbols_per_user` of them (`service::watchlist`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::Symbol;
use serde::Serialize;
use utoipa::ToSchema;

use super::page::cut;
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, PageQuery};
use crate::limits::PublicRead;

/// A symbol on the caller's watchlist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchedSymbolResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    pub added_at: DateTime<Utc>,
}

/// The caller's watchlist, in symbol order, a page at a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct WatchlistResponse {
    pub symbols: Vec<WatchedSymbolResponse>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

fn response(watched: store::WatchedSymbol) -> WatchedSymbolResponse {
    WatchedSymbolResponse {
        symbol: watched.symbol,
        added_at: watched.added_at,
    }
}

/// The caller's watchlist, in symbol order.
#[utoipa::path(get, path = "/v1/me/watchlist", tag = "accounts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Watched symbols", body = WatchlistResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_watchlist(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<WatchlistResponse>, ApiError> {
    let limit = page.limit()?;
    let after = page.after_symbol("watchlist")?;
    let rows = state.service().watchlist(&caller, after, limit + 1).await?;
    let (rows, next_cursor) = cut(rows, limit, "watchlist", |w| w.symbol.to_string());
    Ok(Json(WatchlistResponse {
        symbols: rows.into_iter().map(response).collect(),
        next_cursor,
    }))
}

/// Watches a symbol: 201 when added, 200 when it was on the list already. A symbol is added
/// only when it is known (stored history, or a provider answers for it), and only while the
/// caller watches fewer than `max_watched_symbols_per_user`.
#[utoipa::path(put, path = "/v1/me/watchlist/{symbol}", tag = "accounts",
    security(("bearer" = [])),
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    responses(
        (status = 201, description = "Added", body = WatchedSymbolResponse),
        (status = 200, description = "Was watched already", body = WatchedSymbolResponse),
        (status = 400, description = "Malformed symbol", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller watches `max_watched_symbols_per_user` symbols already (type `cap-reached`; the detail names the cap)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown symbol: nothing is stored for it and no provider knows it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This client's reads that ask a provider are spent for now; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The providers failed while checking the symbol; it was not added", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No provider could check the symbol now (quota spent, breaker open); it was not added. `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn watch_symbol(
    State(state): State<AppState>,
    caller: AuthUser,
    read: PublicRead,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Response, ApiError> {
    let symbol = Symbol::parse(&symbol)?;
    let (watched, added) = state
        .service()
        .watch(&caller, symbol, &state.upstream_budget(read))
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
    state.service().unwatch(&caller, symbol).await?;
    Ok(StatusCode::NO_CONTENT)
}
