//! Operational endpoints: liveness, readiness, metrics, circuit breakers, the provider chain
//! and the OpenAPI document. None of them spends upstream quota.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use market::{BreakerSnapshot, ProviderStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};

/// How long `/ready` waits for the store before calling it down.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness and readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` or `ready`.
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
    /// The provider serving market data.
    pub provider: &'static str,
    /// The store backend (`sqlite`, `postgres`); readiness only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<&'static str>,
}

/// Liveness: the process is up. Calls nothing.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process is up", body = HealthResponse)))]
pub async fn health(State(state): State<AppState>) -> Json<HealthResponse> {
    Json(state.health("ok", None))
}

/// Readiness: the store answers. Does not call any upstream provider.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = HealthResponse),
        (status = 503, description = "The store is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    let store = state.market().store();
    match tokio::time::timeout(READY_TIMEOUT, store.ping()).await {
        Ok(Ok(())) => Ok(Json(state.health("ready", Some(store.backend())))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::Unavailable(format!(
                "the {} store is unreachable",
                store.backend()
            )))
        }
        Err(_) => Err(ApiError::Unavailable(format!(
            "the {} store did not answer within {}s",
            store.backend(),
            READY_TIMEOUT.as_secs()
        ))),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

/// Circuit breakers per provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakersResponse {
    #[schema(value_type = Vec<Object>)]
    pub breakers: Vec<BreakerSnapshot>,
}

/// The state of every provider's circuit breaker: closed, open or half-open, failures, and
/// when an open one will let a trial call through.
#[utoipa::path(get, path = "/circuit-breaker", tag = "operations",
    responses((status = 200, description = "Breaker states", body = BreakersResponse)))]
pub async fn circuit_breakers(State(state): State<AppState>) -> Json<BreakersResponse> {
    Json(BreakersResponse {
        breakers: state.market().breakers(),
    })
}

/// The market-data providers, in the order each capability asks them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvidersResponse {
    /// Per provider: `name`, `capabilities` (`daily` / `quote` with its 1-based `position`),
    /// `breaker` state, `calls` made, `last_error` (key-free) and `last_error_at`.
    #[schema(value_type = Vec<Object>)]
    pub providers: Vec<ProviderStatus>,
}

/// Every provider: which capabilities it serves and in what position, its breaker state, how
/// many calls it made and its last error. Calls nothing.
#[utoipa::path(get, path = "/v1/providers", tag = "operations",
    responses((status = 200, description = "The provider chain", body = ProvidersResponse)))]
pub async fn list_providers(State(state): State<AppState>) -> Json<ProvidersResponse> {
    Json(ProvidersResponse {
        providers: state.market().providers(),
    })
}

/// The OpenAPI 3.1 document, generated from the code.
pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json(),
    )
        .into_response()
}
