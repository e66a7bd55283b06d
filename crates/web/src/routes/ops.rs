//! Operational endpoints: liveness, readiness, metrics, circuit breakers, the provider chain
//! and the OpenAPI document. None of them spends upstream quota.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use market::{
    BreakerSnapshot, BreakerState, Capability, PauseStatus, ProviderLimit, ProviderStatus,
    QuotaStatus, WindowUsage,
};
use serde::Serialize;
use service::status::StoreDown;
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

/// Readiness: every loop this process runs beside the server (alert evaluator, quote poller,
/// dispatcher, ingest workers) is still running, and the store answers. Does not call any
/// upstream provider.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = HealthResponse),
        (status = 503, description = "A loop of this process has stopped (the detail names it: e.g. the alert evaluator), or the store is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    let dead = state.loops().dead();
    if !dead.is_empty() {
        tracing::warn!(stopped = ?dead, "readiness check failed: a loop has stopped");
        return Err(ApiError::Unavailable(format!(
            "the {} stopped (see this process's logs for why); restart the process",
            dead.join(", the ")
        )));
    }
    let service = state.service();
    let backend = service.store_backend();
    match service.store_ready(READY_TIMEOUT).await {
        Ok(()) => Ok(Json(state.health("ready", Some(backend)))),
        Err(StoreDown::Failed) => Err(ApiError::Unavailable(format!(
            "the {backend} store is unreachable"
        ))),
        Err(StoreDown::TimedOut(within)) => Err(ApiError::Unavailable(format!(
            "the {backend} store did not answer within {}s",
            within.as_secs()
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

/// The market-data providers, in the order each capability asks them, and the sentiment
/// scorers' LLM budgets.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvidersResponse {
    pub providers: Vec<ProviderResponse>,
    /// Each LLM sentiment scorer of the chain (`[sentiment] scorers`), in chain order, with its
    /// daily call budget as the database counts it (shared by every replica); empty when only
    /// the lexicon scores.
    pub sentiment_budgets: Vec<SentimentBudgetResponse>,
}

/// One LLM scorer's daily call budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentimentBudgetResponse {
    /// `openai` or `gemini`.
    #[schema(example = "openai")]
    pub scorer: String,
    /// The model it asks.
    #[schema(example = "gpt-4o-mini")]
    pub model: String,
    /// Calls allowed per UTC day (`daily_budget`).
    pub limit: u32,
    /// Calls made today.
    pub used: u32,
    /// Calls left today; at 0 the lexicon scores instead until `resets_at`.
    pub remaining: u32,
    /// The next UTC midnight.
    pub resets_at: DateTime<Utc>,
}

impl From<service::scoring::ScorerBudget> for SentimentBudgetResponse {
    fn from(budget: service::scoring::ScorerBudget) -> Self {
        Self {
            scorer: budget.scorer,
            model: budget.model,
            limit: budget.status.limit,
            used: budget.status.used,
            remaining: budget.status.remaining,
            resets_at: budget.status.resets_at,
        }
    }
}

/// One provider: where it stands in each order, its health and its quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderResponse {
    /// The provider's name, as in `daily_providers` / `quote_providers` and `source`.
    pub name: &'static str,
    /// The capabilities it serves and its 1-based position in each order.
    pub capabilities: Vec<CapabilityPosition>,
    /// Its circuit breaker: `closed`, `open` or `half_open`.
    #[schema(value_type = String, example = "closed")]
    pub breaker: BreakerState,
    /// Attempts that reached the provider since start, retries included.
    pub calls: u64,
    /// The last failed answer (never carries a key).
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Calls allowed, used and left in the current UTC minute and UTC day.
    pub quota: QuotaResponse,
    /// Set while the provider is paused by a limit of its own that it reported reached
    /// (Alpha Vantage's 25 requests a day): it is not called before `until`. `null` otherwise.
    /// As this replica knows it: it reads other replicas' pauses from the database at start
    /// and before each call to the provider.
    pub paused: Option<PauseResponse>,
}

/// A provider paused by its own limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseResponse {
    /// Which of its limits it reported: `per_day`, `per_minute`, `per_second`, or `unstated`
    /// (a bare "too many requests").
    #[schema(value_type = String, example = "per_day")]
    pub limit: ProviderLimit,
    /// When that limit resets and the provider is called again (for Alpha Vantage's daily
    /// limit: the next UTC midnight, an assumption, as Alpha Vantage does not document it).
    pub until: DateTime<Utc>,
    /// When the provider answered so.
    pub since: DateTime<Utc>,
    /// The provider's own words.
    pub detail: String,
}

impl From<PauseStatus> for PauseResponse {
    fn from(pause: PauseStatus) -> Self {
        Self {
            limit: pause.limit,
            until: pause.until,
            since: pause.since,
            detail: pause.detail,
        }
    }
}

/// A provider's place in one capability's order.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilityPosition {
    /// `daily` (history), `quote` (latest quotes) or `news` (articles).
    #[schema(value_type = String, example = "daily")]
    pub capability: Capability,
    /// 1 for the provider asked first.
    pub position: usize,
}

/// A provider's call quota in its two windows (UTC minute, UTC day).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaResponse {
    pub minute: QuotaWindowResponse,
    pub day: QuotaWindowResponse,
}

/// One quota window.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaWindowResponse {
    /// Calls allowed in the window; `null`: unlimited.
    pub limit: Option<u64>,
    /// Of the limit, the calls only scheduled ingestion of tracked symbols may make: requests
    /// stop at `limit - reserved` (0 when unlimited).
    pub reserved: u64,
    /// Calls counted in the current window, every replica sharing the database included (as of
    /// this replica's last call).
    pub used: u64,
    /// Calls left; `null`: unlimited. 0 also while the provider is paused by its own limit
    /// (the day only when the pause lasts to its end).
    pub remaining: Option<u64>,
    /// Calls left for requests (`limit - reserved - used`); `null`: unlimited.
    pub remaining_for_requests: Option<u64>,
    /// When the window ends and its count starts again (UTC).
    pub resets_at: DateTime<Utc>,
}

impl From<ProviderStatus> for ProviderResponse {
    fn from(status: ProviderStatus) -> Self {
        Self {
            name: status.name,
            capabilities: status
                .capabilities
                .into_iter()
                .map(|c| CapabilityPosition {
                    capability: c.capability,
                    position: c.position,
                })
                .collect(),
            breaker: status.breaker,
            calls: status.calls,
            last_error: status.last_error,
            last_error_at: status.last_error_at,
            quota: status.quota.into(),
            paused: status.paused.map(PauseResponse::from),
        }
    }
}

impl From<QuotaStatus> for QuotaResponse {
    fn from(quota: QuotaStatus) -> Self {
        Self {
            minute: quota.minute.into(),
            day: quota.day.into(),
        }
    }
}

impl From<WindowUsage> for QuotaWindowResponse {
    fn from(window: WindowUsage) -> Self {
        Self {
            limit: window.limit,
            reserved: window.reserved,
            used: window.used,
            remaining: window.remaining,
            remaining_for_requests: window.remaining_for_requests,
            resets_at: window.resets_at,
        }
    }
}

/// Every provider: which capabilities it serves and in what position, its breaker state, how
/// many calls it made, its last error, its call quota (limit, used, remaining and reset per
/// UTC minute and day) and whether it is paused by a limit of its own; then each LLM
/// sentiment scorer's daily budget (limit, used, remaining, reset). Calls no provider.
#[utoipa::path(get, path = "/v1/providers", tag = "operations",
    responses((status = 200, description = "The provider chain and the LLM scorers' budgets", body = ProvidersResponse)))]
pub async fn list_providers(State(state): State<AppState>) -> Json<ProvidersResponse> {
    let service = state.service();
    Json(ProvidersResponse {
        providers: service
            .providers()
            .into_iter()
            .map(ProviderResponse::from)
            .collect(),
        sentiment_budgets: service
            .sentiment_budgets()
            .await
            .into_iter()
            .map(SentimentBudgetResponse::from)
            .collect(),
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
