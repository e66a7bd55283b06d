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
use providers::sim::{Sim, SimConfig};
use providers::yahoo::{Yahoo, YahooConfig};
use secrecy::ExposeSecret;
use web::AppState;
use web::features::Feature;

use crate::config::{
    Config, ConfigError, ProviderName, ProvidersSection, StoreSection, WebSection,
};

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
    #[error("{0}")]
    Archive(String),
    #[error("could not connect to the event bus: {0}")]
    Bus(#[from] bus::BusError),
    #[error("the alert engine could not load its rules: {0}")]
    Alerting(#[from] alerting::evaluator::EvaluatorError),
    #[error("notification senders: {0}")]
    Notify(#[from] notify::BuildError),
    /// Validation checks keys at load; this is the guard if a caller skipped it.
    #[error("{0} needs an API key")]
    MissingKey(&'static str),
}

/// The providers asked for daily history and for quotes, in order; each provider is built once
/// and appears in both lists as the same instance, so it has one breaker.
pub fn providers(config: &ProvidersSection) -> Result<ProviderLists, AppError> {
    let chains = &config.chains;
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
    config: &ProvidersSection,
    client: &mut Option<reqwest::Client>,
) -> Result<Arc<dyn MarketData>, AppError> {
    let timeout = config.upstream_timeout;
    let missing_key = || AppError::MissingKey(name.as_str());
    Ok(match name {
        ProviderName::Sample => Arc::new(Sample::new()),
        ProviderName::Sim => Arc::new(Sim::new(SimConfig::default())),
        ProviderName::AlphaVantage => Arc::new(AlphaVantage::new(
            AlphaVantageConfig {
                api_key: config.alphavantage_key.clone().ok_or_else(missing_key)?,
                base_url: config.alphavantage_base_url.clone(),
                timeout,
            },
            http_client(client)?,
        )),
        ProviderName::Finnhub => Arc::new(Finnhub::new(
            FinnhubConfig {
                api_key: config.finnhub_key.clone().ok_or_else(missing_key)?,
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
                api_key: config.polygon_key.clone().ok_or_else(missing_key)?,
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

/// The store and the read path over it: each part of the process takes what it needs of
/// them (the read path keeps its store to itself).
#[derive(Debug, Clone)]
pub struct Core {
    pub store: Arc<dyn store::Store>,
    pub market: Arc<Market>,
}

/// Opens the store and builds the read path over the configured providers, with the quota
/// each provider has already spent today (from the store).
pub async fn core(config: &Config) -> Result<Core, AppError> {
    core_over(&config.store, &config.providers, config.market.clone()).await
}

/// [`core`] from the sections it needs.
async fn core_over(
    store: &StoreSection,
    providers: &ProvidersSection,
    config: market::MarketConfig,
) -> Result<Core, AppError> {
    let store = store::open(store.url()).await?;
    let providers = self::providers(providers)?;
    let market = Arc::new(Market::with_providers(
        providers.daily,
        providers.quote,
        store.clone(),
        config,
    ));
    market.restore_usage().await;
    Ok(Core { store, market })
}

/// The use cases for a CLI command that needs only the database (the accounts commands,
/// `stockd ingest status`, listing and removing tracked symbols, `stockd import`,
/// `stockd archive`): the read path has no
/// provider, so no HTTP client is built.
pub async fn store_service(store: &StoreSection) -> Result<service::Service, AppError> {
    let store = store::open(store.url()).await?;
    let market = Arc::new(Market::with_providers(
        Vec::new(),
        Vec::new(),
        store.clone(),
        market::MarketConfig::default(),
    ));
    Ok(service::Service::new(
        store,
        market,
        service::Settings::default(),
    ))
}

/// The use cases over the configured providers too, with the per-user caps: `stockd symbols
/// add` checks symbols with the providers.
pub async fn provider_service(config: &Config) -> Result<service::Service, AppError> {
    let Core { store, market } = core(config).await?;
    let settings = service::Settings {
        caps: config.web.web.limits.per_user,
        ..service::Settings::default()
    };
    Ok(service::Service::new(store, market, settings))
}

/// Builds the whole application state from the configuration.
pub async fn state(
    config: &Config,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<AppState, AppError> {
    Ok(state_over(&config.web, core(config).await?, metrics))
}

/// The application state over an already built store and read path.
fn state_over(
    config: &WebSection,
    core: Core,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> AppState {
    AppState::with_auth(
        core.store,
        core.market,
        config.web.clone(),
        metrics,
        config.auth.clone(),
    )
}

/// Runs `stockd serve` until a shutdown signal.
pub async fn run(config: Config) -> Result<(), AppError> {
    for name in Config::unknown_env_names(std::env::vars()) {
        tracing::warn!(variable = %name, "ignoring unknown STOCKD_ environment variable; see `stockd config` for the settings");
    }
    let metrics = web::observe::install_metrics_recorder();
    crate::build_info::publish_metric();
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let core = core(&config).await?;
    let state = state_over(&config.web, core.clone(), metrics);
    // Quota gauges change on calls; a window that resets without one must still read full.
    let quotas = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        loop {
            tick.tick().await;
            quotas.market().publish_quota_metrics();
        }
    });
    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AppError::Bind { addr, source })?;
    tracing::info!(
        %addr,
        provider = state.market().provider_name(),
        store = core.store.backend(),
        database = %config.store.redacted_url(),
        "stockd listening; try GET /{}/{}",
        config.web.web.defaults.symbol,
        config.web.web.defaults.days
    );
    let alerting = start_alerting(&config, core.clone(), state.loops()).await?;
    let ingestion = start_ingestion(&config, core, state.loops()).await?;
    let server = web::ServerConfig {
        max_connections: crate::descriptors::connection_budget(config.server.http.max_connections),
        ..config.server.http.clone()
    };
    let router = web::with_cors(web::router(state), &config.server.cors);
    // Bounded by `shutdown_grace`: a stalled client cannot keep the process alive.
    web::serve_with(listener, router, server, shutdown_signal())
        .await
        .map_err(AppError::Serve)?;
    // Then the loops, together, with their own bound.
    tokio::join!(ingestion.stop(), alerting.stop());
    tracing::info!("stockd stopped");
    Ok(())
}

/// The ingest workers and scheduler running beside the HTTP server.
struct Ingestion {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Ingestion {
    /// Asks every worker to hand its job back and waits for them (bounded: a provider call in
    /// flight has its own timeout, and an unfinished job is reclaimed after its lease anyway).
    async fn stop(self) {
        let _ = self.stop.send(true);
        let all = futures_join_all(self.tasks);
        if tokio::time::timeout(LOOPS_STOP_GRACE, all).await.is_err() {
            tracing::warn!(
                "ingest workers did not stop in time; their jobs will be reclaimed after the lease"
            );
        }
    }
}

/// How often the ingest queue's gauges are refreshed.
const QUEUE_OBSERVE_EVERY: Duration = Duration::from_secs(15);

/// How long shutdown waits for the background loops once HTTP has drained: with the default
/// `shutdown_grace` (20 s) a stop takes at most 25 s, inside Kubernetes' default 30 s
/// termination grace period.
const LOOPS_STOP_GRACE: Duration = Duration::from_secs(5);

async fn futures_join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

/// The alert path's loops: the live-quote poller, the evaluator and the dispatcher.
struct Alerting {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Alerting {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let all = futures_join_all(self.tasks);
        if tokio::time::timeout(LOOPS_STOP_GRACE, all).await.is_err() {
            tracing::warn!(
                "alert loops did not stop in time; unacknowledged quotes and leased notifications are picked up again"
            );
        }
    }
}

/// Starts the alert path unless the `alerts` flag is off: quotes from the alert quote chain
/// (the `sim` feed when only the sample is configured), the evaluator over the store's rules,
/// and the dispatcher, all meeting on the bus (in-process, or NATS with `nats_url`). Each loop
/// runs under `loops`, so `/ready` answers 503 once one has stopped.
async fn start_alerting(
    config: &Config,
    Core { store, market }: Core,
    loops: &web::liveness::Loops,
) -> Result<Alerting, AppError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let roles = config.roles;
    // An API-only replica runs no loop, so it needs no bus either.
    if !config.web.features().is_enabled(Feature::Alerts) || !(roles.alerts || roles.worker) {
        return Ok(Alerting { stop, tasks });
    }
    let alerts = &config.alerts;
    let nats_url = alerts.nats_url.as_ref().map(|url| url.expose_secret());
    let bus = bus::connect(nats_url, alerts.bus.clone()).await?;
    let alert_chain = &config.providers.alert_quotes;
    let quote_market = if *alert_chain == config.providers.chains.quote {
        market.clone()
    } else {
        // A chain of its own (the simulated feed): its providers have no quota to share.
        let mut client = None;
        let providers = alert_chain
            .iter()
            .map(|&name| build(name, &config.providers, &mut client))
            .collect::<Result<Vec<_>, _>>()?;
        Arc::new(Market::with_providers(
            Vec::new(),
            providers,
            store.clone(),
            config.market.clone(),
        ))
    };
    if roles.alerts {
        if alerts.quote_poller {
            let poller = alerting::poller::QuotePoller::new(
                quote_market,
                store.clone(),
                bus.clone(),
                alerts.poller,
            );
            tasks.push(loops.spawn("quote poller", poller.run(stopped.clone())));
        }
        // `"series": "signal"` rules are computed with the configured method and `"series":
        // "sentiment"` from the configured score keys, as the signal and sentiment endpoints
        // compute them.
        let evaluator = alerting::evaluator::Evaluator::load_with_series(
            store.clone(),
            bus.clone(),
            alerting::evaluator::SeriesSettings {
                signals: config.signals.config,
                score_keys: config.web.web.news.score_keys.clone(),
            },
        )
        .await?;
        tracing::info!(rules = evaluator.rules(), "alert engine loaded");
        let evaluator_stop = stopped.clone();
        tasks.push(loops.spawn("alert evaluator", async move {
            if let Err(err) = evaluator.run(RULE_RELOAD_EVERY, evaluator_stop).await {
                tracing::error!(error = %err, "alert evaluator stopped");
            }
        }));
    }
    if !roles.worker {
        return Ok(Alerting { stop, tasks });
    }
    let senders = notify::Senders::new(config.notify.senders.clone())?;
    let dispatcher = alerting::dispatcher::Dispatcher::new(
        store,
        Arc::new(senders),
        bus,
        config.notify.dispatch.clone(),
    );
    let worker = format!(
        "{}-{}-dispatch",
        crate::ingesting::hostname(),
        std::process::id()
    );
    tasks.push(loops.spawn("notification dispatcher", dispatcher.run(worker, stopped)));
    Ok(Alerting { stop, tasks })
}

/// How often the evaluator checks the store for rules created or changed by their owners.
const RULE_RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Starts `ingest_workers` workers (watched by `/ready`) and, unless its flag is off, the
/// schedule.
async fn start_ingestion(
    config: &Config,
    core: Core,
    loops: &web::liveness::Loops,
) -> Result<Ingestion, AppError> {
    let (stop, stopped) = ingest::Stop::channel();
    if !config.roles.worker {
        // Said once, so an operator (and a test) can tell "not this replica's job" from "not
        // started yet".
        tracing::info!("ingestion: not run by this replica (its role has no worker)");
        return Ok(Ingestion {
            stop,
            tasks: Vec::new(),
        });
    }
    // Built only where jobs run: the signals hook connects to the bus.
    let ingestor = crate::ingesting::ingestor(config, core).await?;
    let host = crate::ingesting::hostname();
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = (0..config.ingest.workers.workers)
        .map(|n| {
            let ingestor = ingestor.clone();
            let name = format!("{host}-{}-{n}", std::process::id());
            loops.spawn(
                "ingest worker",
                ingestor.run_worker_owned(name, stopped.clone()),
            )
        })
        .collect();
    // The queue-depth gauges, also while every worker is idle (or none runs here).
    let observer = ingestor.clone();
    let mut observer_stop = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(QUEUE_OBSERVE_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => observer.observe_queue().await,
                () = observer_stop.wait() => return,
            }
        }
    }));
    if config.web.features().is_enabled(Feature::ScheduledIngest) {
        tasks.push(tokio::spawn(ingest::run_scheduler(
            ingestor,
            config.ingest.schedule.clone(),
            stopped,
        )));
    }
    Ok(Ingestion { stop, tasks })
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
