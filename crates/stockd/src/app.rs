//! Wiring: build the store, the provider and the read path from the configuration, then serve
//! until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use market::Market;
use providers::MarketData;
use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use providers::sample::Sample;
use web::{AppState, Defaults, WebConfig};

use crate::config::{Config, ProviderChoice};

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
}

/// Builds the provider the configuration asks for.
pub fn provider(config: &Config) -> Result<Arc<dyn MarketData>, AppError> {
    match (config.provider_choice(), config.api_key()) {
        (ProviderChoice::AlphaVantage, Some(key)) => {
            let client = reqwest::Client::builder()
                .user_agent(concat!("stockd/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .map_err(|err| AppError::HttpClient(err.without_url().to_string()))?;
            let av = AlphaVantage::new(
                AlphaVantageConfig {
                    api_key: key.clone(),
                    base_url: config.alphavantage_base_url.clone(),
                    timeout: config.upstream_timeout,
                },
                client,
            );
            Ok(Arc::new(av))
        }
        // Validation guarantees a key for Alpha Vantage; without one, the sample is all there is.
        _ => Ok(Arc::new(Sample::new())),
    }
}

/// Builds the whole application state from the configuration.
pub async fn state(
    config: &Config,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<AppState, AppError> {
    let store = store::open(&config.database_url()).await?;
    let market = Arc::new(Market::new(provider(config)?, store, config.market()));
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
