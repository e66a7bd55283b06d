//! Wiring: build the store, the providers (each once, sharing one HTTP client) and the read
//! path from the configuration, then serve until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use market::Market;
use providers::MarketData;
use providers::alphavantage::{AlphaVantage, AlphaVantageConfig};
use providers::finnhub::{Finnhub, FinnhubConfig};
use providers::news::NewsSource;
use providers::news::newsapi::{NewsApi, NewsApiConfig};
use providers::news::rss::{Rss, RssConfig};
use providers::news::sim::SimNews;
use providers::polygon::{Polygon, PolygonConfig};
use providers::sample::Sample;
use providers::sim::{Sim, SimConfig};
use providers::yahoo::{Yahoo, YahooConfig};
use secrecy::ExposeSecret;
use web::AppState;
use web::features::Feature;

use crate::config::{
    Config, ConfigError, LlmScorer, NewsSection, NewsSourceName, ProviderName, ProvidersSection,
    SentimentSection, StoreSection, WebSection,
};

/// How often histogram buckets are folded so memory stays flat between scrapes. Until folded,
/// every recorded duration is kept (8 bytes a request: ~0.6 MiB a second at 80k requests/s).
const METRICS_UPKEEP: Duration = Duration::from_secs(1);

/// How long after the server starts listening the start-up memory is released: the loops'
/// first rounds (catch-up, the first polls) are start-up work too.
const RELEASE_START_UP_MEMORY_AFTER: Duration = Duration::from_secs(1);

/// How often the quota gauges are refreshed when no call changed them.
const QUOTA_GAUGES_EVERY: Duration = Duration::from_secs(5);

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
    /// A news source that cannot be built (checked at load; the guard if a caller skipped it).
    #[error("{0}")]
    News(&'static str),
    /// Validation checks keys at load; this is the guard if a caller skipped it.
    #[error("{0} needs an API key")]
    MissingKey(&'static str),
}

/// The providers asked for daily history and for quotes, in order; each provider is built once
/// and appears in both lists as the same instance, so it has one breaker.
pub fn providers(config: &ProvidersSection) -> Result<ProviderLists, AppError> {
    providers_on(config, &mut None)
}

/// [`providers`] on `client`, the HTTP client shared with the news sources (built on first use:
/// the sample needs none).
fn providers_on(
    config: &ProvidersSection,
    client: &mut Option<reqwest::Client>,
) -> Result<ProviderLists, AppError> {
    let chains = &config.chains;
    let mut built: Vec<(ProviderName, Arc<dyn MarketData>)> = Vec::new();
    let mut lists = ProviderLists::default();
    for (names, list) in [
        (&chains.daily, &mut lists.daily),
        (&chains.quote, &mut lists.quote),
    ] {
        for &name in names {
            let provider = match built.iter().find(|(built, _)| *built == name) {
                Some((_, provider)) => provider.clone(),
                None => {
                    let provider = build(name, config, client)?;
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

/// The configured news sources, in order (none: news is off), on the shared HTTP client.
/// Sources of a market-data vendor use that provider's key and base URL.
pub fn news_sources(
    news: &NewsSection,
    config: &ProvidersSection,
    client: &mut Option<reqwest::Client>,
) -> Result<Vec<Arc<dyn NewsSource>>, AppError> {
    let timeout = config.upstream_timeout;
    news.sources
        .iter()
        .map(|&name| {
            let missing_key = || AppError::MissingKey(name.as_str());
            Ok(match name {
                NewsSourceName::Sim => Arc::new(SimNews::new(SIM_NEWS_SEED)) as Arc<dyn NewsSource>,
                NewsSourceName::Finnhub => Arc::new(Finnhub::new(
                    FinnhubConfig {
                        api_key: config.finnhub_key.clone().ok_or_else(missing_key)?,
                        base_url: config.finnhub_base_url.clone(),
                        timeout,
                    },
                    http_client(client)?,
                )),
                NewsSourceName::AlphaVantage => Arc::new(AlphaVantage::new(
                    AlphaVantageConfig {
                        api_key: config.alphavantage_key.clone().ok_or_else(missing_key)?,
                        base_url: config.alphavantage_base_url.clone(),
                        timeout,
                    },
                    http_client(client)?,
                )),
                NewsSourceName::Polygon => Arc::new(Polygon::new(
                    PolygonConfig {
                        api_key: config.polygon_key.clone().ok_or_else(missing_key)?,
                        base_url: config.polygon_base_url.clone(),
                        timeout,
                    },
                    http_client(client)?,
                )),
                NewsSourceName::NewsApi => Arc::new(NewsApi::new(
                    NewsApiConfig {
                        api_key: news.newsapi_key.clone().ok_or_else(missing_key)?,
                        base_url: news.newsapi_base_url.clone(),
                        timeout,
                        // NewsAPI searches words: English articles keep a ticker's matches
                        // about the company rather than homonyms in other languages.
                        language: Some("en".to_owned()),
                    },
                    http_client(client)?,
                )),
                NewsSourceName::Rss => {
                    let template = news
                        .rss_url
                        .as_ref()
                        .ok_or(AppError::News("rss needs news.rss_url"))?;
                    let config = RssConfig {
                        url_template: template.expose_secret().to_owned(),
                        timeout,
                    };
                    Arc::new(
                        Rss::new(config, http_client(client)?).map_err(|_| {
                            AppError::News("news.rss_url is not a feed URL template")
                        })?,
                    )
                }
            })
        })
        .collect()
}

/// The `sim` news source's seed: the same invented articles on every start.
const SIM_NEWS_SEED: u64 = 0x5eed;

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

/// The store, the read path over it and the sentiment scorer chain: each part of the process
/// takes what it needs of them (the read path keeps its store to itself).
#[derive(Debug, Clone)]
pub struct Core {
    pub store: Arc<dyn store::Store>,
    pub market: Arc<Market>,
    /// `[sentiment]`'s chain, its LLM budgets counted in the store.
    pub sentiment: service::scoring::SentimentChain,
}

/// Opens the store and builds the read path over the configured providers, with the quota
/// each provider has already spent today (from the store).
pub async fn core(config: &Config) -> Result<Core, AppError> {
    core_over(
        &config.store,
        &config.providers,
        &config.news,
        &config.sentiment,
        config.market.clone(),
    )
    .await
}

/// [`core`] from the sections it needs.
async fn core_over(
    store: &StoreSection,
    providers: &ProvidersSection,
    news: &NewsSection,
    sentiment: &SentimentSection,
    config: market::MarketConfig,
) -> Result<Core, AppError> {
    let store = store::open(store.url()).await?;
    let mut client = None;
    let lists = providers_on(providers, &mut client)?;
    let sources = news_sources(news, providers, &mut client)?;
    let sentiment = sentiment_chain(sentiment, store.clone(), &mut client)?;
    let market = Arc::new(Market::with_sources(
        lists.daily,
        lists.quote,
        sources,
        store.clone(),
        config,
    ));
    market.restore_usage().await;
    Ok(Core {
        store,
        market,
        sentiment,
    })
}

/// The sentiment chain of `[sentiment]`: its LLM scorers in the configured order on the shared
/// HTTP client, each with a daily budget counted in the store (`llm:<scorer>` in the provider
/// usage counts), then the lexicon.
pub fn sentiment_chain(
    config: &SentimentSection,
    store: Arc<dyn store::Store>,
    client: &mut Option<reqwest::Client>,
) -> Result<service::scoring::SentimentChain, AppError> {
    let ledger: Arc<dyn sentiment::BudgetLedger> =
        Arc::new(service::scoring::StoreLedger::new(store));
    let mut preferred: Vec<Arc<dyn sentiment::Scorer>> = Vec::new();
    for scorer in &config.preferred {
        preferred.push(match scorer {
            LlmScorer::OpenAi => {
                let openai = &config.openai;
                Arc::new(sentiment::OpenAiScorer::new(
                    sentiment::OpenAiConfig {
                        base_url: openai.base_url.clone(),
                        model: openai.model.clone(),
                        api_key: openai.api_key.clone(),
                        response_format: openai.response_format,
                        timeout: config.timeout,
                        budget: sentiment::DailyBudget::with_ledger(
                            "llm:openai",
                            openai.daily_budget,
                            ledger.clone(),
                        ),
                    },
                    http_client(client)?,
                ))
            }
            LlmScorer::Gemini => {
                let gemini = &config.gemini;
                Arc::new(sentiment::GeminiScorer::new(
                    sentiment::GeminiConfig {
                        base_url: gemini.base_url.clone(),
                        model: gemini.model.clone(),
                        api_key: gemini
                            .api_key
                            .clone()
                            .ok_or(AppError::MissingKey("gemini"))?,
                        timeout: config.timeout,
                        budget: sentiment::DailyBudget::with_ledger(
                            "llm:gemini",
                            gemini.daily_budget,
                            ledger.clone(),
                        ),
                    },
                    http_client(client)?,
                ))
            }
        });
    }
    Ok(service::scoring::SentimentChain::new(
        sentiment::ScorerChain::new(preferred, sentiment::LexiconScorer::new()),
    ))
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
    let Core { store, market, .. } = core(config).await?;
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
    let web = web::WebConfig {
        sentiment: core.sentiment,
        ..config.web.clone()
    };
    AppState::with_auth(core.store, core.market, web, metrics, config.auth.clone())
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
        let mut tick = tokio::time::interval(QUOTA_GAUGES_EVERY);
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
    let features = config.web.features();
    let roles = config.roles;
    let stream_on = features.is_enabled(Feature::Stream);
    // One bus for the process: the alert loops, the signals hook and the live stream meet on
    // it (in process, they must share the one instance). An API-only replica without the
    // stream needs none.
    let bus = if stream_on || roles.alerts || roles.worker {
        Some(config.alerts.connect_bus().await?)
    } else {
        None
    };
    if let Some(bus) = &bus {
        // Signal label changes a read finds while catching up are announced like the ones
        // ingestion finds.
        state.service().announce_on(bus.clone());
    }
    let hub = match (&bus, stream_on) {
        (Some(bus), true) => {
            let hub = service::stream::Hub::start(bus.as_ref(), config.stream).await?;
            state.set_stream_hub(hub.clone());
            Some(hub)
        }
        _ => None,
    };
    // Channel tests send as the dispatcher does (SMTP, Twilio, the webhook allow-list).
    state.service().set_senders(Arc::new(notify::Senders::new(
        config.notify.senders.clone(),
    )?));
    let (beat_stop, beat_stopped) = tokio::sync::watch::channel(false);
    let me = service::instances::Me::new(
        &crate::ingesting::hostname(),
        &roles.name(),
        env!("CARGO_PKG_VERSION"),
    );
    let heartbeat = state.loops().spawn(
        "instance heartbeat",
        state.service().clone().run_heartbeat(me, beat_stopped),
    );
    let alerting = start_alerting(&config, core.clone(), state.loops(), bus.clone()).await?;
    let scoring =
        start_scoring(&config, state.service().clone(), state.loops(), bus.clone()).await?;
    let ingestion = start_ingestion(&config, core, state.loops(), bus).await?;
    let server = web::ServerConfig {
        max_connections: crate::descriptors::connection_budget(config.server.http.max_connections),
        // Freed memory is kept for reuse while requests come, and given back when they stop.
        when_idle: Some(crate::trim::return_freed_memory),
        ..config.server.http.clone()
    };
    if features.is_enabled(Feature::Mcp) {
        state.set_mcp(mcp::http::service(state.clone()));
    }
    let routes = web::routes(state).with_cors(&config.server.cors);
    // Bounded by `shutdown_grace`: a stalled client cannot keep the process alive.
    let shutdown = async move {
        shutdown_signal().await;
        // Open streams end now, each told why, instead of holding the drain to its end.
        if let Some(hub) = hub {
            hub.shut_down();
        }
    };
    // Start-up is over: what only it used goes back (crate::trim), once the loops started
    // above have run their first rounds, off the path of the first requests.
    tokio::spawn(async {
        tokio::time::sleep(RELEASE_START_UP_MEMORY_AFTER).await;
        if let Ok(released) =
            tokio::task::spawn_blocking(crate::trim::release_start_up_memory).await
        {
            tracing::info!(
                rss_before_kib = released.rss_before_kib,
                rss_after_kib = released.rss_after_kib,
                mappings = released.mappings_paged_out,
                "start-up memory released"
            );
        }
    });
    web::serve_with(listener, routes, server, shutdown)
        .await
        .map_err(AppError::Serve)?;
    // Then the loops, together, with their own bound.
    let _ = beat_stop.send(true);
    tokio::join!(ingestion.stop(), alerting.stop(), scoring.stop());
    let _ = heartbeat.await;
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
/// and the dispatcher, all meeting on the bus (in-process, or NATS or Kafka when configured). Each loop
/// runs under `loops`, so `/ready` answers 503 once one has stopped.
async fn start_alerting(
    config: &Config,
    Core {
        store,
        market,
        sentiment,
    }: Core,
    loops: &web::liveness::Loops,
    bus: Option<Arc<dyn bus::Bus>>,
) -> Result<Alerting, AppError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let roles = config.roles;
    // An API-only replica runs no loop, so it needs no bus either.
    let Some(bus) = bus else {
        return Ok(Alerting { stop, tasks });
    };
    if !config.web.features().is_enabled(Feature::Alerts) || !(roles.alerts || roles.worker) {
        return Ok(Alerting { stop, tasks });
    }
    let alerts = &config.alerts;
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
        // "sentiment"` from the scoring chain's score keys, as the signal and sentiment endpoints
        // compute them.
        let evaluator = alerting::evaluator::Evaluator::load_with_series(
            store.clone(),
            bus.clone(),
            alerting::evaluator::SeriesSettings {
                signals: config.signals.config,
                score_keys: sentiment.keys().to_vec(),
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

/// The sentiment scoring worker running beside the server.
struct Scoring {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Scoring {
    /// Asks the worker to stop after the article in flight and waits for it (bounded; an
    /// article not finished stays unscored and is scored by the next leader).
    async fn stop(self) {
        let _ = self.stop.send(true);
        let all = futures_join_all(self.tasks);
        if tokio::time::timeout(LOOPS_STOP_GRACE, all).await.is_err() {
            tracing::warn!("the sentiment scorer did not stop in time; its article stays queued");
        }
    }
}

/// Starts the sentiment scoring worker where the role includes `worker`: every such replica
/// runs one, and the bus elects the one that scores (see `crate::scoring`).
async fn start_scoring(
    config: &Config,
    service: service::Service,
    loops: &web::liveness::Loops,
    bus: Option<Arc<dyn bus::Bus>>,
) -> Result<Scoring, AppError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if !config.roles.worker {
        tracing::info!("sentiment scoring: not run by this replica (its role has no worker)");
        return Ok(Scoring {
            stop,
            tasks: Vec::new(),
        });
    }
    // The process's bus (in process it must be the one the news hook publishes on, or the
    // scorer is never woken); connected here only when the caller has none.
    let bus = match bus {
        Some(bus) => bus,
        None => config.alerts.connect_bus().await?,
    };
    tracing::info!(
        scorers = ?service.sentiment_keys().iter().map(|key| key.scorer.as_str()).collect::<Vec<_>>(),
        "sentiment scoring worker started"
    );
    let worker = crate::scoring::ScoringWorker::new(service, bus, &config.sentiment);
    let tasks = vec![loops.spawn("sentiment scorer", worker.run(stopped))];
    Ok(Scoring { stop, tasks })
}

/// How often the evaluator checks the store for rules created or changed by their owners.
const RULE_RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Starts `ingest_workers` workers (watched by `/ready`) and, unless its flag is off, the
/// schedule, and the news schedule when a news source is configured.
async fn start_ingestion(
    config: &Config,
    core: Core,
    loops: &web::liveness::Loops,
    bus: Option<Arc<dyn bus::Bus>>,
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
    let ingestor = crate::ingesting::ingestor(config, core, bus).await?;
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
        if ingestor.news_enabled() {
            tasks.push(tokio::spawn(ingest::run_news_scheduler(
                ingestor.clone(),
                config.news.schedule.clone(),
                stopped.clone(),
            )));
        }
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
