//! `/v1/symbols`: the global list of tracked symbols that ingestion keeps fresh. Reading is
//! public; changing it needs the operator's admin token (`STOCKD_ADMIN_TOKEN`) as a bearer token.
//!
//! A symbol is tracked (or watched) only once it is known: stored history exists, or a provider
//! answers for it through the read path (quota-checked, with unknown symbols remembered per
//! provider). Junk never reaches the ingest schedule, where every tracked symbol costs calls.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::Symbol;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;

/// A tracked symbol.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedSymbolResponse {
    #[schema(value_type = String, example = "MSFT")]
    pub symbol: Symbol,
    /// When it was first tracked.
    pub added_at: DateTime<Utc>,
}

/// The tracked symbols.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedSymbolsResponse {
    pub symbols: Vec<TrackedSymbolResponse>,
}

/// Every tracked symbol, in symbol order.
#[utoipa::path(get, path = "/v1/symbols", tag = "symbols",
    responses(
        (status = 200, description = "Tracked symbols", body = TrackedSymbolsResponse),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_symbols(
    State(state): State<AppState>,
) -> Result<Json<TrackedSymbolsResponse>, ApiError> {
    let tracked = state.service().tracked_symbols().await?;
    Ok(Json(TrackedSymbolsResponse {
        symbols: tracked
            .into_iter()
            .map(|t| TrackedSymbolResponse {
                symbol: t.symbol,
                added_at: t.added_at,
            })
            .collect(),
    }))
}

/// Tracks a symbol: 201 when added, 200 when it was tracked already.
#[utoipa::path(put, path = "/v1/symbols/{symbol}", tag = "symbols",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    security(("admin_token" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Now tracked", body = TrackedSymbolResponse),
        (status = 200, description = "Was tracked already", body = TrackedSymbolResponse),
        (status = 400, description = "Malformed symbol", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong admin token, or none configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown symbol: nothing is stored for it and no provider knows it", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The providers failed while checking the symbol; it was not tracked", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No provider could check the symbol now (quota spent, breaker open); it was not tracked. `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn track_symbol(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(symbol): ApiPath<String>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers).await?;
    let symbol = Symbol::parse(&symbol)?;
    let (tracked, added) = state
        .service()
        .track_symbol(symbol, &market::Unmetered)
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = TrackedSymbolResponse {
        symbol: tracked.symbol,
        added_at: tracked.added_at,
    };
    Ok((status, Json(body)).into_response())
}

/// Stops tracking a symbol (its stored history stays): 204, or 404 when it was not tracked.
#[utoipa::path(delete, path = "/v1/symbols/{symbol}", tag = "symbols",
    params(("symbol" = String, Path, description = "Ticker, e.g. MSFT")),
    security(("admin_token" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "No longer tracked"),
        (status = 404, description = "Was not tracked", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Wrong admin token, or none configured", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn untrack_symbol(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(symbol): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers).await?;
    let symbol = Symbol::parse(&symbol)?;
    state.service().untrack_symbol(symbol).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks `Authorization: Bearer <token>`: the operator's admin token, or the session or API
/// token of an admin user.
async fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    crate::auth::require_admin(
        state,
        headers,
        "changing tracked symbols over HTTP needs an admin: sign in as an admin user, set STOCKD_ADMIN_TOKEN, or use `stockd symbols add`",
    )
    .await
    .map(drop)
}
