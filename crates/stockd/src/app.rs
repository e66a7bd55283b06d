//! Wiring: build the store, the providers (each once, sharing one HTTP client) and the read
//! path from the configuration, then serve until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use market::Market;
use providers::MarketData;
use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use providers::finnhub::{Finnhub, FinnhubConfig};
use providers::polygon::{Polygon, PolygonConfig};
use providers::sample::Sample;
use providers::yahoo::{Yahoo, YahooConfig};
use web::{AppState, Defaults, WebConfig};

use crate::config::{Config, ConfigError, ProviderName};

/// How often histogram buckets are folded so memory stays flat between scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// Why stockd could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error(
        "could not listen on {addr}: {source}; is another process using the port? set PORT or --port"
    )]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Validation checks keys at load; this is the guard if a caller skipped it.
    #[error("{0} needs an API key")]
    MissingKey(&'static str),
}

/// The providers asked for daily history and for quotes, in order; each provider is built once
/// and appears in both lists as the same instance, so it has one breaker.
pub fn providers(config: &Config) -> Result<ProviderLists, AppError> {
    let chains = config.provider_chains()?;
    let mut built: Vec<(ProviderName, Arc<dyn MarketData>)> = Vec::new();
    // Built only when an HTTP provider is configured: the sample needs no client.
    let mut client: Option<reqwest::Client> = None;
    let mut lists = ProviderLists::default();
    for (names, list) in [
        (&chains.daily, &mut lists.daily),
        (&chains.quote, &mut lists.quote),
    ] {
        for &name in names {
            let provider = match built.iter().find(|(built, _)| *built == name) {
                Some((_, provider)) => provider.clone(),
                None => {
                    let provider = build(name, config, &mut client)?;
                    built.push((name, provider.clone()));
                    provider
                }
            };
            list.push(provider);
        }
    }
    Ok(lists)
}

/// The ordered provider lists of each capability.
#[derive(Debug, Default)]
pub struct ProviderLists {
    pub daily: Vec<Arc<dyn MarketData>>,
    pub quote: Vec<Arc<dyn MarketData>>,
}

fn build(
    name: ProviderName,
    config: &Config,
    client: &mut Option<reqwest::Client>,
) -> Result<Arc<dyn MarketData>, AppError> {
    let timeout = config.upstream_timeout;
    let missing_key = || AppError::MissingKey(name.as_str());
    Ok(match name {
        ProviderName::Sample => Arc::new(Sample::new()),
        ProviderName::AlphaVantage => Arc::new(AlphaVantage::new(
            AlphaVantageConfig {
                api_key: config.api_key().ok_or_else(missing_key)?.clone(),
                base_url: config.alphavantage_base_url.clone(),
                timeout,
            },
            http_client(client)?,
        )),
        ProviderName::Finnhub => Arc::new(Finnhub::new(
            FinnhubConfig {
                api_key: config.finnhub_key().ok_or_else(missing_key)?.clone(),
                base_url: config.finnhub_base_url.clone(),
                timeout,
            },
            http_client(client)?,
        )),
        ProviderName::Yahoo => Arc::new(Yahoo::new(
            YahooConfig {
                base_url: config.yahoo_base_url.clone(),
                timeout,
            },
            http_client(client)?,
        )),
        ProviderName::Polygon => Arc::new(Polygon::new(
            PolygonConfig {
                api_key: config.polygon_key().ok_or_else(missing_key)?.clone(),
                base_url: config.polygon_base_url.clone(),
                timeout,
            },
            http_client(client)?,
        )),
    })
}

/// The one HTTP client every provider shares (one connection pool), built on first use.
fn http_client(client: &mut Option<reqwest::Client>) -> Result<reqwest::Client, AppError> {
    if let Some(client) = client {
        return Ok(client.clone());
    }
    let built = reqwest::Client::builder()
        .user_agent(concat!("stockd/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|err| AppError::HttpClient(err.without_url().to_string()))?;
    *client = Some(built.clone());
    Ok(built)
}

/// Builds the whole application state from the configuration.
pub async fn state(
    config: &Config,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<AppState, AppError> {
    let store = store::open(&config.database_url()).await?;
    let providers = providers(config)?;
    let market = Arc::new(Market::with_providers(
        providers.daily,
        providers.quote,
        store,
        config.market(),
    ));
    let web = WebConfig {
        defaults: Defaults {
            symbol: config.symbol,
            days: config.ndays,
        },
        max_days: config.max_days,
        features: config.features(),
        admin_token: config.admin_token().cloned(),
    };
    Ok(AppState::new(market, web, metrics))
}

/// Runs `stockd serve` until a shutdown signal.
pub async fn run(config: Config) -> Result<(), AppError> {
    for name in Config::unknown_env_names(std::env::vars()) {
        tracing::warn!(variable = %name, "ignoring unknown STOCKD_ environment variable; see `stockd config` for the settings");
    }
    let metrics = web::observe::install_metrics_recorder();
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let state = state(&config, metrics).await?;
    let addr = config.listen_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })?;
    tracing::info!(
        %addr,
        provider = state.market().provider_name(),
        store = state.market().store().backend(),
        database = %store::redact_url(&config.database_url()),
        "stockd listening; try GET /{}/{}",
        config.symbol,
        config.ndays
    );
    web::serve(listener, web::router(state), shutdown_signal())
        .await
        .map_err(AppError::Serve)?;
    tracing::info!("stockd stopped");
    Ok(())
}

/// Resolves on SIGTERM (Kubernetes, systemd) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received; finishing in-flight requests"),
    }
}
