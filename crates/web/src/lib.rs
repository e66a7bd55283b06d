//! The HTTP edge of stockd.
//!
//! [`router()`] (module [`router`]) lists every URL, the flag-gated groups under a typed
//! [`features::Feature`]: the seed-compatible routes (`/`, `/{symbol}`, `/{symbol}/{days}`),
//! the product API under `/v1`, the operational endpoints (`/health`, `/ready`, `/metrics`,
//! `/circuit-breaker`, `/v1/providers`), the OpenAPI document, the offline docs page and the
//! dashboard under `/app/` ([`app`]), and the door of the MCP server, `/mcp` ([`mcp`]).
//! Handlers parse the request (extractors shared by every group are in [`extract`]), call one
//! use case of [`service::Service`] (or the `market` read path for prices) and render the
//! answer; they never reach the store or a provider. [`AppState`] (module `state`) owns the
//! service. Errors leave as problem+json through [`error::ApiError`], the one place a
//! `ServiceError` becomes an HTTP answer. [`serve_with`] takes the [`Routes`] to serve (the
//! router, and the paths its fallback answers without it: [`routes()`]), a bound listener, the
//! connection limits and timeouts, and a shutdown future, so tests bind `127.0.0.1:0` and stop
//! cleanly; [`with_cors`] adds the cross-origin allow-list.

pub mod app;
pub mod auth;
pub mod cors;
pub mod docs;
pub mod error;
pub mod extract;
pub mod features;
mod json;
pub mod limits;
pub mod liveness;
pub mod mcp;
pub mod observe;
pub mod openapi;
pub mod router;
pub mod routes;
mod security;
pub mod server;
mod state;

use std::future::Future;

use domain::Symbol;
use tokio::net::TcpListener;

pub use crate::cors::{CorsOrigins, with_cors};
pub use crate::router::{Routes, router, routes};
pub use crate::server::{Drain, IDLE_HOOK_GAP, ServerConfig, serve_with};
pub use crate::state::AppState;

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
    /// The weights and thresholds of composite signals (`[signals]`).
    pub signals: domain::SignalsConfig,
    /// Whether news is on and whose sentiment scores count (`[news]`, `[sentiment]`).
    pub news: service::news::NewsSettings,
    /// The sentiment scorer chain (`[sentiment]`): its keys, in chain order, are what the news
    /// reads prefer; its LLM budgets are shown on `/v1/providers`.
    pub sentiment: service::scoring::SentimentChain,
}

/// Serves `routes` on `listener` with the default [`ServerConfig`] until `shutdown` resolves,
/// then drains (see [`server`]).
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, routes, ServerConfig::default(), shutdown)
        .await
        .map(|_| ())
}
