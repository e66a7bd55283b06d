//! [`AppState`]: what every handler can reach. It owns the use cases ([`service::Service`],
//! which holds the store handle and the read path) and the edge's own parts: settings, the
//! per-client limiters, the metrics handle, the rendered OpenAPI document, the seed routes'
//! render cache and the loops `/ready` watches. Handlers reach the store only through the
//! service.

use std::sync::Arc;
use std::time::Instant;

use market::Market;
use metrics_exporter_prometheus::PrometheusHandle;
use service::Service;
use store::Store;

use crate::routes::ops;
use crate::{WebConfig, auth, limits, liveness, mcp, openapi, routes};

#[derive(Debug)]
struct Shared {
    service: Service,
    config: WebConfig,
    metrics: PrometheusHandle,
    /// Rendered on the first `/openapi.json` (see [`AppState::openapi_json`]).
    openapi_json: std::sync::OnceLock<axum::body::Bytes>,
    closes: routes::closes::RenderCache,
    started: Instant,
    auth: auth::AuthSettings,
    login_limiter: auth::LoginLimiter,
    loops: liveness::Loops,
    read_limiter: limits::reads::ReadLimiter,
    signup_limiter: auth::SignupLimiter,
    stream: std::sync::OnceLock<service::stream::Hub>,
    mcp_limiter: mcp::McpLimiter,
    mcp: std::sync::OnceLock<mcp::McpService>,
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wires the state over `store` and the read path `market` (which keeps its bars in
    /// `store`); the OpenAPI document is rendered once here.
    pub fn new(
        store: Arc<dyn Store>,
        market: Arc<Market>,
        config: WebConfig,
        metrics: PrometheusHandle,
    ) -> Self {
        Self::with_auth(
            store,
            market,
            config,
            metrics,
            auth::AuthSettings::default(),
        )
    }

    /// [`AppState::new`] with chosen authentication settings (session lifetime, login limits,
    /// proxy trust, argon2 cost).
    pub fn with_auth(
        store: Arc<dyn Store>,
        market: Arc<Market>,
        config: WebConfig,
        metrics: PrometheusHandle,
        auth: auth::AuthSettings,
    ) -> Self {
        let settings = service::Settings {
            caps: config.limits.per_user,
            session_ttl: auth.session_ttl,
            hasher: auth.hasher.clone(),
            webhook_allow: auth.webhook_allow.clone(),
            signals: config.signals,
            news: config.news.clone(),
            sentiment: config.sentiment.clone(),
            heartbeat_every: service::Settings::default().heartbeat_every,
        };
        Self(Arc::new(Shared {
            openapi_json: std::sync::OnceLock::new(),
            service: Service::new(store, market, settings),
            login_limiter: auth::LoginLimiter::new(auth.limits),
            read_limiter: limits::reads::ReadLimiter::new(config.limits.reads),
            mcp_limiter: mcp::McpLimiter::new(config.limits.mcp),
            signup_limiter: auth::SignupLimiter::new(auth.signups_per_address),
            auth,
            config,
            metrics,
            closes: routes::closes::RenderCache::default(),
            started: Instant::now(),
            loops: liveness::Loops::default(),
            stream: std::sync::OnceLock::new(),
            mcp: std::sync::OnceLock::new(),
        }))
    }

    /// The use cases.
    pub fn service(&self) -> &Service {
        &self.0.service
    }

    /// The read path.
    pub fn market(&self) -> &Market {
        self.0.service.market()
    }

    /// Serves `GET /v1/stream` from `hub` (the process's one); a second call is ignored.
    /// The service is attached to it too: revocations end its streams.
    pub fn set_stream_hub(&self, hub: service::stream::Hub) {
        self.0.service.attach_stream(&hub);
        let _ = self.0.stream.set(hub);
    }

    /// The live-updates hub, once set.
    pub fn stream_hub(&self) -> Option<&service::stream::Hub> {
        self.0.stream.get()
    }

    /// Serves `/mcp` with `server` (the `mcp` crate's streamable HTTP transport); a second call
    /// is ignored. Without it, `/mcp` answers 500: the binary always installs one.
    pub fn set_mcp(&self, server: mcp::McpService) {
        let _ = self.0.mcp.set(server);
    }

    pub(crate) fn mcp(&self) -> Option<&mcp::McpService> {
        self.0.mcp.get()
    }

    pub(crate) fn mcp_limiter(&self) -> &mcp::McpLimiter {
        &self.0.mcp_limiter
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

    pub(crate) fn login_limiter(&self) -> &auth::LoginLimiter {
        &self.0.login_limiter
    }

    pub(crate) fn read_limiter(&self) -> &limits::reads::ReadLimiter {
        &self.0.read_limiter
    }

    /// What a public read may spend on upstream calls: its client's allowance.
    pub(crate) fn upstream_budget(
        &self,
        read: limits::reads::PublicRead,
    ) -> limits::reads::ClientBudget<'_> {
        self.read_limiter().budget(read)
    }

    pub(crate) fn signup_limiter(&self) -> &auth::SignupLimiter {
        &self.0.signup_limiter
    }

    pub(crate) fn closes(&self) -> &routes::closes::RenderCache {
        &self.0.closes
    }

    pub(crate) fn metrics(&self) -> &PrometheusHandle {
        &self.0.metrics
    }

    /// The OpenAPI document as JSON, rendered on first use and kept: building it takes
    /// ~6 MiB of transient allocations and the text is ~0.5 MiB, which a replica that never
    /// serves `/openapi.json` should not hold (bench/memory.sh).
    pub(crate) fn openapi_json(&self) -> axum::body::Bytes {
        self.0
            .openapi_json
            .get_or_init(|| openapi::document_json(self.0.config.max_days).into())
            .clone()
    }

    pub(crate) fn health(
        &self,
        status: &'static str,
        store: Option<&'static str>,
    ) -> ops::HealthResponse {
        ops::HealthResponse {
            status,
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: self.0.started.elapsed().as_secs(),
            provider: self.market().provider_name(),
            store,
        }
    }
}
