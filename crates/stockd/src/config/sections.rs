//! The sections of [`Config`]: what each part of stockd receives, built from the [`Settings`]
//! once, at load. Every list, URL, schedule and name is parsed here, and a bad one is refused
//! here with the setting's name, so nothing downstream parses a setting or falls back to a
//! default for one it could not read.

use std::net::SocketAddr;
use std::time::Duration;

use alerting::dispatcher::DispatchConfig;
use alerting::poller::PollerConfig;
use notify::NotifyConfig;
use secrecy::{ExposeSecret, SecretString};
use web::WebConfig;
use web::auth::AuthSettings;
use web::features::Features;

use super::{
    Config, ConfigError, LogFormat, ProviderChains, ProviderName, Settings, invalid, redact_url,
};

/// The HTTP server: where it listens, its connection limits and timeouts, and CORS.
#[derive(Debug, Clone)]
pub struct ServerSection {
    pub listen: SocketAddr,
    /// `max_connections` as configured (the binary lowers it to what the file-descriptor limit
    /// allows).
    pub http: web::ServerConfig,
    pub cors: web::CorsOrigins,
}

/// The database.
#[derive(Debug, Clone)]
pub struct StoreSection {
    /// `database_url`, or the SQLite file under `data_dir`; secret because it may carry a
    /// password.
    url: SecretString,
}

impl StoreSection {
    /// The database URL, to open it.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// The database URL with its password replaced, for logs.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url())
    }
}

/// The market-data providers: which serve each capability, and what each needs to be built.
#[derive(Debug, Clone)]
pub struct ProvidersSection {
    pub chains: ProviderChains,
    /// The providers asked for the live quotes alerts are evaluated on.
    pub alert_quotes: Vec<ProviderName>,
    /// Longest a single upstream call may take.
    pub upstream_timeout: Duration,
    pub alphavantage_key: Option<SecretString>,
    pub alphavantage_base_url: String,
    pub finnhub_key: Option<SecretString>,
    pub finnhub_base_url: String,
    pub yahoo_base_url: String,
    pub polygon_key: Option<SecretString>,
    pub polygon_base_url: String,
}

/// The HTTP edge: what its handlers serve by default, its flags, limits and authentication.
#[derive(Debug, Clone)]
pub struct WebSection {
    pub web: WebConfig,
    pub auth: AuthSettings,
}

impl WebSection {
    /// The feature flags.
    pub fn features(&self) -> &Features {
        &self.web.features
    }
}

/// Ingestion: the workers' settings and the schedule.
#[derive(Debug, Clone)]
pub struct IngestSection {
    pub workers: ingest::IngestConfig,
    pub schedule: ingest::Schedule,
}

/// The alert path: the bus between replicas and the live-quote poller.
#[derive(Debug, Clone)]
pub struct AlertsSection {
    /// NATS with JetStream; `None`: Kafka when `bus.kafka` is set, else in-process.
    pub nats_url: Option<SecretString>,
    pub bus: bus::BusConfig,
    /// Whether this process runs (stands for election as) the live-quote poller.
    pub quote_poller: bool,
    pub poller: PollerConfig,
}

impl AlertsSection {
    /// The configured bus: NATS, Kafka or in-process (see [`bus::connect`]).
    pub async fn connect_bus(&self) -> Result<std::sync::Arc<dyn bus::Bus>, bus::BusError> {
        let nats_url = self.nats_url.as_ref().map(|url| url.expose_secret());
        bus::connect(nats_url, self.bus.clone()).await
    }
}

/// Notification delivery: the senders and the dispatcher's retries.
#[derive(Debug, Clone)]
pub struct NotifySection {
    pub senders: NotifyConfig,
    pub dispatch: DispatchConfig,
}

/// Composite trading signals: whether they are computed, and with which weights and thresholds.
#[derive(Debug, Clone)]
pub struct SignalsSection {
    pub enabled: bool,
    pub config: domain::SignalsConfig,
}

/// The Parquet archive.
#[derive(Debug, Clone)]
pub struct ArchiveSection {
    /// `archive_url`, or the folder `archive` under `data_dir`; secret because a URL may carry
    /// a token.
    url: SecretString,
    /// Object-store credentials and options from the environment (`AWS_*`, `AZURE_*`,
    /// `GOOGLE_*`).
    pub object_store_env: Vec<(String, SecretString)>,
}

impl ArchiveSection {
    /// The archive's URL, to open it.
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

/// Logs.
#[derive(Debug, Clone)]
pub struct TelemetrySection {
    /// In `tracing` env-filter syntax.
    pub log: String,
    pub format: LogFormat,
}

impl Config {
    /// Checks `settings` and builds every section from them: the only place a setting is parsed.
    pub(super) fn from_settings(settings: Settings) -> Result<Self, ConfigError> {
        settings.validate()?;
        let features = settings.features()?;
        let server = ServerSection {
            listen: settings.listen_addr(),
            http: settings.server(),
            cors: settings.cors_origins()?,
        };
        let database_url = settings.database_url();
        if let Err(err) = store::DatabaseUrl::parse(&database_url) {
            return Err(invalid("database_url", err.to_string()));
        }
        let chains = settings.provider_chains()?;
        let providers = ProvidersSection {
            alert_quotes: settings.alert_quote_chain(&chains)?,
            chains,
            upstream_timeout: settings.upstream_timeout,
            alphavantage_key: settings.api_key().cloned(),
            alphavantage_base_url: settings.alphavantage_base_url.clone(),
            finnhub_key: settings.finnhub_key().cloned(),
            finnhub_base_url: settings.finnhub_base_url.clone(),
            yahoo_base_url: settings.yahoo_base_url.clone(),
            polygon_key: settings.polygon_key().cloned(),
            polygon_base_url: settings.polygon_base_url.clone(),
        };
        let ingest = IngestSection {
            workers: settings.ingest(),
            schedule: settings.schedule()?,
        };
        let roles = settings.roles()?;
        let webhook_allow = settings.webhook_allow()?;
        let notify = NotifySection {
            senders: settings.notify(webhook_allow.clone())?,
            dispatch: settings.dispatch(settings.retry_schedule()?),
        };
        let signals = SignalsSection {
            enabled: settings.signals.enabled,
            config: settings.signals_config()?,
        };
        let news = settings.news()?;
        let web = WebSection {
            web: WebConfig {
                defaults: web::Defaults {
                    symbol: settings.symbol,
                    days: settings.ndays,
                },
                max_days: settings.max_days,
                features,
                admin_token: settings.admin_token().cloned(),
                limits: settings.limits(),
                signals: signals.config,
                // On with a `[news] sources` list.
                news: service::news::NewsSettings {
                    enabled: news.enabled(),
                },
                // The chain needs the store and the HTTP client: the binary sets it.
                sentiment: service::scoring::SentimentChain::default(),
            },
            auth: settings.auth(webhook_allow)?,
        };
        let alerts = AlertsSection {
            nats_url: settings.nats_url(),
            bus: bus::BusConfig {
                prefix: settings.nats_prefix.clone(),
                kafka: settings.kafka(),
                ..bus::BusConfig::default()
            },
            quote_poller: settings.quote_poller,
            poller: settings.poller(),
        };
        Ok(Self {
            server,
            store: StoreSection {
                url: SecretString::from(database_url),
            },
            providers,
            market: settings.market(),
            web,
            roles,
            stream: service::stream::StreamSettings {
                per_user: settings.stream_max_per_user,
                replay: settings.stream_replay as usize,
                queue: settings.stream_queue as usize,
                heartbeat: settings.stream_heartbeat,
            },
            ingest,
            alerts,
            notify,
            signals,
            news,
            sentiment: settings.sentiment()?,
            archive: ArchiveSection {
                url: SecretString::from(settings.archive_url()),
                object_store_env: settings.object_store_env.clone(),
            },
            telemetry: TelemetrySection {
                log: settings.log.clone(),
                format: settings.log_format,
            },
            settings,
        })
    }

    /// Replaces the roles (`stockd serve --role`), checked as the `roles` setting is.
    pub fn set_roles(&mut self, roles: String) -> Result<(), ConfigError> {
        let mut settings = self.settings.clone();
        settings.roles = roles;
        self.roles = settings.roles()?;
        self.settings = settings;
        Ok(())
    }
}
