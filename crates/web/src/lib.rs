//! The HTTP edge of stockd.
//!
//! [`router`] lists every URL: the seed-compatible routes (`/`, `/{symbol}`,
//! `/{symbol}/{days}`), the product API under `/v1`, the operational endpoints (`/health`,
//! `/ready`, `/metrics`, `/circuit-breaker`, `/v1/providers`), the OpenAPI document and the offline docs page.
//! Handlers ask the `market` read path for data and never call providers or the store for
//! prices themselves. Errors leave as problem+json through [`error::ApiError`]. [`serve_with`]
//! takes a bound listener, the connection limits and timeouts, and a shutdown future, so tests
//! bind `127.0.0.1:0` and stop cleanly; [`with_cors`] adds the cross-origin allow-list.

pub mod auth;
pub mod cors;
pub mod docs;
pub mod error;
mod extract;
pub mod features;
mod json;
pub mod limits;
pub mod liveness;
pub mod observe;
pub mod openapi;
pub mod routes;
mod security;
pub mod server;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get, put};
use domain::Symbol;
use market::Market;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

pub use crate::cors::{CorsOrigins, with_cors};
use crate::routes::{history, ingest, ops, seed, stocks, symbols};
pub use crate::server::{Drain, ServerConfig, serve_with};

/// The defaults of the seed routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// `GET /` serves this symbol (`SYMBOL`).
    pub symbol: Symbol,
    /// `GET /` and `GET /{symbol}` serve this many days (`NDAYS`).
    pub days: u32,
}

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub defaults: Defaults,
    /// The largest `days` accepted.
    pub max_days: u32,
    /// Which endpoints are switched off here.
    pub features: features::Features,
    /// The operator's token for changing tracked symbols over HTTP; `None` disables that.
    pub admin_token: Option<secrecy::SecretString>,
    /// Per-client read limits and per-user caps.
    pub limits: limits::Limits,
}

#[derive(Debug)]
struct Shared {
    market: Arc<Market>,
    config: WebConfig,
    metrics: PrometheusHandle,
    openapi_json: String,
    closes: routes::closes::RenderCache,
    started: Instant,
    auth: auth::AuthSettings,
    login_limiter: auth::LoginLimiter,
    loops: liveness::Loops,
    read_limiter: limits::reads::ReadLimiter,
    signup_limiter: auth::SignupLimiter,
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wires the state; the OpenAPI document is rendered once here.
    pub fn new(market: Arc<Market>, config: WebConfig, metrics: PrometheusHandle) -> Self {
        Self::with_auth(market, config, metrics, auth::AuthSettings::default())
    }

    /// [`AppState::new`] with chosen authentication settings (session lifetime, login limits,
    /// proxy trust, argon2 cost).
    pub fn with_auth(
        market: Arc<Market>,
        config: WebConfig,
        metrics: PrometheusHandle,
        auth: auth::AuthSettings,
    ) -> Self {
        Self(Arc::new(Shared {
            openapi_json: openapi::document_json(config.max_days),
            login_limiter: auth::LoginLimiter::new(auth.limits),
            read_limiter: limits::reads::ReadLimiter::new(config.limits.reads),
            signup_limiter: auth::SignupLimiter::new(auth.signups_per_address),
            auth,
            market,
            config,
            metrics,
            closes: routes::closes::RenderCache::default(),
            started: Instant::now(),
            loops: liveness::Loops::default(),
        }))
    }

    /// The read path.
    pub fn market(&self) -> &Market {
        &self.0.market
    }

    /// The HTTP settings.
    pub fn config(&self) -> &WebConfig {
        &self.0.config
    }

    /// The authentication settings.
    pub fn auth(&self) -> &auth::AuthSettings {
        &self.0.auth
    }

    /// The loops running beside the server, which `/ready` watches: start them with
    /// [`liveness::Loops::spawn`].
    pub fn loops(&self) -> &liveness::Loops {
        &self.0.loops
    }

    fn login_limiter(&self) -> &auth::LoginLimiter {
        &self.0.login_limiter
    }

    fn read_limiter(&self) -> &limits::reads::ReadLimiter {
        &self.0.read_limiter
    }

    /// What a public read may spend on upstream calls: its client's allowance.
    pub(crate) fn upstream_budget(
        &self,
        read: limits::reads::PublicRead,
    ) -> limits::reads::ClientBudget<'_> {
        self.read_limiter().budget(read)
    }

    fn signup_limiter(&self) -> &auth::SignupLimiter {
        &self.0.signup_limiter
    }

    fn closes(&self) -> &routes::closes::RenderCache {
        &self.0.closes
    }

    fn metrics(&self) -> &PrometheusHandle {
        &self.0.metrics
    }

    fn openapi_json(&self) -> String {
        self.0.openapi_json.clone()
    }

    fn health(&self, status: &'static str, store: Option<&'static str>) -> ops::HealthResponse {
        ops::HealthResponse {
            status,
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: self.0.started.elapsed().as_secs(),
            provider: self.market().provider_name(),
            store,
        }
    }
}

/// Every URL stockd serves.
pub fn router(state: AppState) -> Router {
    let features = state.config().features.clone();
    // A route whose feature is off answers "disabled here" instead of its handler.
    let gated = |name: &'static str, route: MethodRouter<AppState>| -> MethodRouter<AppState> {
        if features.is_enabled(name) {
            route
        } else {
            get(move || async move { features::disabled_response(name) })
        }
    };
    let docs = if state.config().features.is_enabled("api_docs") {
        docs::routes().route("/openapi.json", get(ops::openapi))
    } else {
        // Every docs URL, so none of them falls through to the `/{symbol}/{days}` route.
        let off = || get(|| async { features::disabled_response("api_docs") });
        Router::new()
            .route("/docs", off())
            .route("/docs/scalar.js", off())
            .route("/openapi.json", off())
    };
    Router::new()
        .route("/", get(seed::default_prices))
        .route("/{symbol}", get(seed::symbol_prices))
        .route("/{symbol}/{days}", get(seed::symbol_days_prices))
        .route(
            "/v1/stocks/{symbol}/daily",
            gated("daily_api", get(stocks::daily_bars)),
        )
        .route(
            "/v1/stocks/{symbol}/quote",
            gated("quotes", get(stocks::latest_quote)),
        )
        .route(
            "/v1/stocks/{symbol}/eod",
            gated("history_eod", get(history::end_of_day)),
        )
        .route(
            "/v1/stocks/{symbol}/delta",
            gated("history_delta", get(history::price_delta)),
        )
        .route("/v1/daily", gated("multi_daily", get(history::multi_daily)))
        .route("/v1/features", get(features::list_features))
        .route("/v1/symbols", get(symbols::list_symbols))
        .route(
            "/v1/symbols/{symbol}",
            put(symbols::track_symbol).delete(symbols::untrack_symbol),
        )
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/circuit-breaker", get(ops::circuit_breakers))
        .route("/v1/providers", get(ops::list_providers))
        .route(
            "/v1/ingest/jobs",
            gated("ingest_api", get(ingest::list_jobs)),
        )
        .merge(docs)
        .merge(routes::accounts::routes(features.is_enabled("accounts")))
        .merge(routes::alerts::routes(features.is_enabled("alerts")))
        .route_layer(observe::ObserveLayer)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found(request: Request) -> Response {
    let problem = error::problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no such route; see /docs for the API".into(),
        None,
    );
    observe::unmatched(&request, problem)
}

async fn method_not_allowed(request: Request) -> Response {
    let problem = error::problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not answer that method; see /docs for the API".into(),
        None,
    );
    observe::unmatched(&request, problem)
}

/// Serves `router` on `listener` with the default [`ServerConfig`] until `shutdown` resolves,
/// then drains (see [`server`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, ServerConfig::default(), shutdown)
        .await
        .map(|_| ())
}
