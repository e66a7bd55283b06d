//! Typed, layered configuration: defaults → `--config` file → environment → flags.
//!
//! Environment names are `STOCKD_` plus the setting in upper case (`STOCKD_CACHE_TTL`); the
//! seed's names work as aliases (`PORT`, `SYMBOL`, `NDAYS`, `APIKEY`, `CACHE_TTL`,
//! `CIRCUIT_BREAKER_TIMEOUT`) and lose to a `STOCKD_` name set at the same time. Only this
//! module reads the environment.
//!
//! Loading reads the layers into [`Settings`] (the flat list of settings users write, which
//! `stockd config` prints), then builds [`Config`]: one typed section per part of the program
//! (server, store, providers, read path, web edge, ingestion, alerts, notifications, signals,
//! news, sentiment, archive, telemetry), every value parsed and checked once, here. A consumer receives its section,
//! never the whole configuration, and never parses a setting itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use domain::Symbol;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use market::{BreakerConfig, MarketConfig, RetryConfig};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

use crate::cli::{Cli, OutputFormat};
use crate::duration;

mod accounts;
mod alerting;
mod chain;
mod http;
mod layers;
mod limits;
mod news;
mod quotas;
mod redact;
mod sections;
mod sentiment;
mod signals;

pub use alerting::Roles;
pub use chain::{ProviderChains, ProviderName};
use layers::{NamedLayer, describe_figment_error};
pub use limits::LimitsSetting;
pub use news::{NewsSection, NewsSetting, NewsSourceName};
pub use quotas::QuotaSetting;
pub use redact::redact_url;
pub use sections::{
    AlertsSection, ArchiveSection, IngestSection, NotifySection, ProvidersSection, ServerSection,
    SignalsSection, StoreSection, TelemetrySection, WebSection,
};
pub use sentiment::{
    GeminiSection, GeminiSetting, LlmScorer, OpenAiSection, OpenAiSetting, SentimentSection,
    SentimentSetting,
};
pub use signals::SignalsSetting;

/// Environment variables handed to the archive's object store (credentials, region, endpoint):
/// object_store's own names, as its builders' `from_env` would read them.
const OBJECT_STORE_ENV_PREFIXES: &[&str] = &["AWS_", "AZURE_", "GOOGLE_"];

/// The public Alpha Vantage endpoint.
pub const ALPHAVANTAGE_URL: &str = "https://www.alphavantage.co";

/// Every setting stockd reads, as read: the names of the file keys and (in upper case, with
/// `STOCKD_`) of the environment variables. [`Config`] is what the program uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Port to listen on.
    pub port: u16,
    /// Address to listen on.
    pub bind: IpAddr,
    /// How long a connection may take to send a complete request head (from being accepted,
    /// or from the first byte of a later request on a kept-alive connection).
    #[serde(with = "duration")]
    pub http_header_read_timeout: Duration,
    /// How long a request body may take to arrive once its handler reads it (408 after).
    #[serde(with = "duration")]
    pub http_body_timeout: Duration,
    /// How long a connection may sit with no request in progress and no byte moving.
    #[serde(with = "duration")]
    pub http_idle_timeout: Duration,
    /// Connections open at once; more are closed as they are accepted. Lowered at start to
    /// what the process's file-descriptor limit leaves room for.
    pub http_max_connections: usize,
    /// After SIGTERM, how long open HTTP connections may finish before they are dropped (the
    /// background loops then get up to 5 s more).
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    /// Origins whose pages may call the API (CORS), comma-separated
    /// (`https://app.example.com`); `*` for any; empty: none.
    pub cors_allow_origins: String,
    /// Folder for the SQLite database and other data.
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…`, `sqlite://PATH` or a path); unset: `<data_dir>/stockd.db`.
    /// Secret because it may carry a password; printed redacted ([`redact_url`]).
    #[serde(serialize_with = "redact_secret_url", default)]
    pub database_url: Option<SecretString>,
    /// Where `stockd archive` writes Parquet history: a folder, `file://`, `s3://`, `az://` or
    /// `gs://`; unset: `<data_dir>/archive`. Secret because a URL may carry a token; printed
    /// redacted ([`redact_url`]).
    #[serde(serialize_with = "redact_secret_url", default)]
    pub archive_url: Option<SecretString>,
    /// Object-store credentials and options from the environment (`AWS_*`, `AZURE_*`,
    /// `GOOGLE_*`, object_store's own names), captured at load for the archive; never printed.
    #[serde(skip)]
    pub object_store_env: Vec<(String, SecretString)>,
    /// `sample` or `alphavantage`; unset: alphavantage when a key is set, else sample.
    pub provider: Option<ProviderChoice>,
    /// Providers asked for daily history, in order, comma-separated; unset: `provider`.
    #[serde(default)]
    pub daily_providers: Option<String>,
    /// Providers asked for latest quotes, in order, comma-separated; unset: `provider`.
    #[serde(default)]
    pub quote_providers: Option<String>,
    /// The symbol `GET /` serves.
    pub symbol: Symbol,
    /// Days served by `GET /` and `GET /{symbol}`.
    pub ndays: u32,
    /// The largest `days` a request may ask for.
    pub max_days: u32,
    /// How long a daily series is served from cache before asking again.
    #[serde(with = "duration")]
    pub cache_ttl: Duration,
    /// How long a latest quote is served from cache.
    #[serde(with = "duration")]
    pub quote_ttl: Duration,
    /// How long a stale copy is served before the provider is tried again.
    #[serde(with = "duration")]
    pub stale_retry: Duration,
    /// Upper bound of the in-memory daily cache, in bars.
    pub cache_max_bars: u64,
    /// How long an open circuit breaker waits before a trial call.
    #[serde(with = "duration")]
    pub circuit_breaker_timeout: Duration,
    /// Consecutive upstream failures that open the breaker.
    pub circuit_breaker_threshold: u32,
    /// Longest a single upstream call may take.
    #[serde(with = "duration")]
    pub upstream_timeout: Duration,
    /// Retries after a failed upstream call (timeouts and 5xx only).
    pub upstream_retries: usize,
    /// First retry backoff; doubles per retry, with jitter.
    #[serde(with = "duration")]
    pub upstream_backoff: Duration,
    /// Alpha Vantage API key (secret).
    #[serde(serialize_with = "redact", default)]
    pub alphavantage_api_key: Option<SecretString>,
    /// Alpha Vantage base URL (point it at a mock or a proxy). Printed redacted, like every
    /// URL setting: a proxy URL may carry credentials.
    #[serde(serialize_with = "redact::url")]
    pub alphavantage_base_url: String,
    /// Finnhub API key (secret).
    #[serde(serialize_with = "redact", default)]
    pub finnhub_api_key: Option<SecretString>,
    /// Finnhub base URL.
    #[serde(serialize_with = "redact::url")]
    pub finnhub_base_url: String,
    /// Yahoo Finance chart base URL (no key).
    #[serde(serialize_with = "redact::url")]
    pub yahoo_base_url: String,
    /// Polygon.io API key (secret).
    #[serde(serialize_with = "redact", default)]
    pub polygon_api_key: Option<SecretString>,
    /// Polygon.io base URL.
    #[serde(serialize_with = "redact::url")]
    pub polygon_base_url: String,
    /// `auto` (JSON unless on a terminal), `json` or `pretty`.
    pub log_format: LogFormat,
    /// Log filter, in `tracing` env-filter syntax (`info`, `stockd=debug,info`).
    pub log: String,
    /// Bearer token that allows changing tracked symbols over HTTP (secret); unset disables it.
    #[serde(serialize_with = "redact", default)]
    pub admin_token: Option<SecretString>,
    /// How long a session token from `POST /v1/auth/login` lives (fixed from login).
    #[serde(with = "duration")]
    pub session_ttl: Duration,
    /// Count login failures against the last `X-Forwarded-For` address instead of the peer:
    /// only behind a proxy that always sets it.
    pub trust_forwarded_for: bool,
    /// Who may register: `open` (anyone), `invite` (with an admin's invitation code) or
    /// `closed` (admins make accounts).
    pub signup: String,
    /// Registrations per client address per hour; 0: unlimited.
    pub signups_per_address: usize,
    /// Password jobs (argon2 hashes, checks) run at once; unset: one per core.
    #[serde(default)]
    pub password_hash_workers: Option<usize>,
    /// Password jobs that may wait for a turn before requests get 503; unset: 8 per worker.
    #[serde(default)]
    pub password_hash_queue: Option<usize>,
    /// Feature flags (`[features]` table, `STOCKD_FEATURES__<NAME>=false`); every flag defaults
    /// to on, see `GET /v1/features`.
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    /// Call quotas per provider (`[quotas.alphavantage] per_day = 25`,
    /// `STOCKD_QUOTAS__ALPHAVANTAGE__PER_DAY=25`): calls per UTC minute and UTC day, 0 for
    /// unlimited; defaults are the free plans' limits.
    #[serde(default = "quotas::defaults")]
    pub quotas: BTreeMap<String, QuotaSetting>,
    /// Per-client read limits and per-user caps (`[limits]` table,
    /// `STOCKD_LIMITS__MAX_RULES_PER_USER=…`); 0 turns one off.
    #[serde(default)]
    pub limits: LimitsSetting,
    /// Composite trading signals (`[signals]` table, `STOCKD_SIGNALS__ENABLED`,
    /// `STOCKD_SIGNALS__WEIGHTS__TREND`, `STOCKD_SIGNALS__THRESHOLDS__BUY`, …): whether they are
    /// computed, each component's weight and the label thresholds.
    #[serde(default)]
    pub signals: SignalsSetting,
    /// News sources and their ingestion (`[news]` table, `STOCKD_NEWS__SOURCES=finnhub,rss`,
    /// `STOCKD_NEWS__NEWSAPI_API_KEY`, `STOCKD_NEWS__SCHEDULE`, …); no source: news is off.
    #[serde(default)]
    pub news: NewsSetting,
    /// News sentiment scoring (`[sentiment]` table, `STOCKD_SENTIMENT__SCORERS`,
    /// `STOCKD_SENTIMENT__OPENAI__API_KEY`, `STOCKD_SENTIMENT__GEMINI__DAILY_BUDGET`, …): the
    /// scorers in order (the lexicon always last), the LLMs' URLs, models, keys and daily
    /// budgets, and the worker's window, batch and pace.
    #[serde(default)]
    pub sentiment: SentimentSetting,
    /// How long a provider's "unknown symbol" answer is remembered, so it is not asked about
    /// that symbol again meanwhile (0: ask every time).
    #[serde(with = "duration")]
    pub unknown_symbol_ttl: Duration,
    /// Ingest workers per process (`STOCKD_INGEST_WORKERS`); 0 runs none here.
    pub ingest_workers: usize,
    /// Tracked symbols per scheduled ingest job.
    pub ingest_batch_size: usize,
    /// Attempts per ingest job before it stays failed.
    pub ingest_max_attempts: u32,
    /// Backoff before an ingest job's first retry; doubles per attempt, up to an hour.
    #[serde(with = "duration")]
    pub ingest_retry_backoff: Duration,
    /// How long a claimed job stays its worker's without a renewal (a dead worker's job is
    /// reclaimed after it).
    #[serde(with = "duration")]
    pub ingest_lease: Duration,
    /// When scheduled ingestion runs: a cron expression (5 fields, or 6 with seconds).
    pub ingest_schedule: String,
    /// The schedule's IANA time zone.
    pub ingest_time_zone: String,
    /// NATS server with JetStream (`nats://host:4222`) for events between replicas; unset:
    /// in-process. Secret because it may carry credentials; printed redacted.
    #[serde(serialize_with = "redact_secret_url", default)]
    pub nats_url: Option<SecretString>,
    /// Subject prefix, stream and bucket name on NATS (`[a-z0-9_-]`): deployments sharing a
    /// server keep apart with different prefixes.
    pub nats_prefix: String,
    /// Kafka bootstrap brokers (`host:9092,host2:9092`) for events between replicas, instead
    /// of NATS (topics and groups named after `nats_prefix`); needs a build with `--features
    /// kafka`. The `kafka_*` settings below say how to reach them.
    #[serde(default)]
    pub kafka_brokers: Option<String>,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    pub kafka_security_protocol: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (with a `sasl_*` protocol).
    #[serde(default)]
    pub kafka_sasl_mechanism: Option<String>,
    #[serde(default)]
    pub kafka_sasl_username: Option<String>,
    /// The SASL password (secret).
    #[serde(serialize_with = "redact", default)]
    pub kafka_sasl_password: Option<SecretString>,
    /// A PEM file of the CAs that sign the brokers' certificates; unset: the system's.
    #[serde(default)]
    pub kafka_ssl_ca_location: Option<String>,
    /// Run a live-quote poller in this process. Pollers of a scale-out deployment elect one
    /// leader on the bus and only it polls (two would spend provider quota on the same quotes);
    /// `false` keeps this replica out of the election.
    pub quote_poller: bool,
    /// What this process runs besides the HTTP API (every process serves it, with its probes
    /// and metrics): `all`, or a comma-separated list of `api` (nothing else), `worker` (ingest
    /// workers, the schedule, the notification dispatcher) and `alerts` (the evaluator and,
    /// with `quote_poller`, the poller). `stockd serve --role` sets it too.
    pub roles: String,
    /// Providers asked for the live quotes alerts are evaluated on, in order; unset: the quote
    /// providers, or `sim` (simulated ticks) when those are only the bundled sample.
    #[serde(default)]
    pub alert_quote_providers: Option<String>,
    /// Time between two live-quote rounds for the symbols of active alert rules.
    #[serde(with = "duration")]
    pub quote_interval: Duration,
    /// A quote moving more than this percentage from the last good price is held back until
    /// three quotes confirm it (bad upstream data never fires an alert).
    pub quote_max_jump_pct: f64,
    /// Also poll live quotes for every symbol on a watchlist (the dashboard's live cards), not
    /// only those of active alert rules. With a metered quote provider each watched-only symbol
    /// costs one call per `quote_interval`; `false` saves that quota.
    pub quote_watched: bool,
    /// Live streams (`GET /v1/stream`) one user may have open at once on a replica; 0: no limit.
    pub stream_max_per_user: u32,
    /// Events each replica keeps for stream resumes (`Last-Event-ID`), all users together.
    pub stream_replay: u32,
    /// Events one stream may have waiting for its client before it is dropped as too slow.
    pub stream_queue: u32,
    /// How often an idle stream sends a heartbeat, and how often each open stream checks that
    /// its token is still valid (a sign-out on another replica ends it within this).
    #[serde(with = "duration")]
    pub stream_heartbeat: Duration,
    /// Non-public webhook destinations allowed anyway: CIDRs, addresses, host names,
    /// comma-separated (e.g. `10.0.0.0/8,hooks.internal`); empty: none.
    pub webhook_allow: String,
    /// Waits between notification attempts, comma-separated; its length bounds the retries.
    pub notification_retry_schedule: String,
    /// Notifications of a claimed batch the dispatcher sends at once to one receiving host (a
    /// webhook's host and port, the SMTP relay, Twilio): a burst of firings arrives within a
    /// few send times without flooding one receiver. 1 to 256.
    pub notification_sends_per_host: u32,
    /// SMTP relay for email channels; unset: email channels cannot be delivered. Printed
    /// redacted should it be written as a URL with credentials.
    #[serde(serialize_with = "redact::optional_url", default)]
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub smtp_tls: String,
    #[serde(default)]
    pub smtp_username: Option<String>,
    /// SMTP password (secret).
    #[serde(serialize_with = "redact", default)]
    pub smtp_password: Option<SecretString>,
    /// Sender mailbox, e.g. `stockd <alerts@example.com>`.
    #[serde(default)]
    pub smtp_from: Option<String>,
    /// Twilio account SID for SMS channels; unset: SMS channels cannot be delivered.
    #[serde(default)]
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token (secret).
    #[serde(serialize_with = "redact", default)]
    pub twilio_auth_token: Option<SecretString>,
    /// Sending number (E.164) or sender id.
    #[serde(default)]
    pub twilio_from: Option<String>,
    /// Twilio API base URL (point it at a mock).
    #[serde(serialize_with = "redact::url")]
    pub twilio_base_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8080,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            http_header_read_timeout: web::ServerConfig::default().header_read_timeout,
            http_body_timeout: web::ServerConfig::default().body_timeout,
            http_idle_timeout: web::ServerConfig::default().idle_timeout,
            http_max_connections: web::ServerConfig::default().max_connections,
            shutdown_grace: web::ServerConfig::default().shutdown_grace,
            cors_allow_origins: String::new(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            archive_url: None,
            object_store_env: Vec::new(),
            provider: None,
            daily_providers: None,
            quote_providers: None,
            symbol: Symbol::parse("MSFT")
                .unwrap_or_else(|_| unreachable!("MSFT is a valid symbol")),
            ndays: 7,
            max_days: 5000,
            cache_ttl: Duration::from_secs(300),
            quote_ttl: Duration::from_secs(60),
            stale_retry: Duration::from_secs(10),
            cache_max_bars: 2_000_000,
            circuit_breaker_timeout: Duration::from_secs(30),
            circuit_breaker_threshold: 5,
            upstream_timeout: Duration::from_secs(10),
            upstream_retries: 2,
            upstream_backoff: Duration::from_millis(200),
            alphavantage_api_key: None,
            alphavantage_base_url: ALPHAVANTAGE_URL.into(),
            finnhub_api_key: None,
            finnhub_base_url: providers::finnhub::DEFAULT_BASE_URL.into(),
            yahoo_base_url: providers::yahoo::DEFAULT_BASE_URL.into(),
            polygon_api_key: None,
            polygon_base_url: providers::polygon::DEFAULT_BASE_URL.into(),
            log_format: LogFormat::Auto,
            log: "info".into(),
            admin_token: None,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            trust_forwarded_for: false,
            signup: "open".into(),
            signups_per_address: 5,
            password_hash_workers: None,
            password_hash_queue: None,
            features: BTreeMap::new(),
            quotas: quotas::defaults(),
            limits: LimitsSetting::default(),
            signals: SignalsSetting::default(),
            news: NewsSetting::default(),
            sentiment: SentimentSetting::default(),
            unknown_symbol_ttl: Duration::from_secs(3600),
            ingest_workers: 2,
            ingest_batch_size: 25,
            ingest_max_attempts: 5,
            ingest_retry_backoff: Duration::from_secs(60),
            ingest_lease: Duration::from_secs(30),
            ingest_schedule: ingest::schedule::DEFAULT_CRON.into(),
            ingest_time_zone: ingest::schedule::DEFAULT_TIME_ZONE.into(),
            nats_url: None,
            nats_prefix: "stockd".into(),
            kafka_brokers: None,
            kafka_security_protocol: "plaintext".into(),
            kafka_sasl_mechanism: None,
            kafka_sasl_username: None,
            kafka_sasl_password: None,
            kafka_ssl_ca_location: None,
            quote_poller: true,
            roles: "all".into(),
            alert_quote_providers: None,
            quote_interval: Duration::from_secs(15),
            quote_max_jump_pct: 20.0,
            quote_watched: true,
            stream_max_per_user: 5,
            stream_replay: 4096,
            stream_queue: 256,
            stream_heartbeat: Duration::from_secs(15),
            webhook_allow: String::new(),
            notification_retry_schedule: "30s,2m,10m,30m,2h".into(),
            notification_sends_per_host: ::alerting::dispatcher::DEFAULT_PER_HOST,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_from: None,
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_from: None,
            twilio_base_url: notify::TWILIO_BASE_URL.into(),
        }
    }
}

/// The configuration stockd runs with: the settings as read, and the section of every part of
/// the program, each parsed and checked once, at load ([`Config::load`]).
#[derive(Debug, Clone)]
pub struct Config {
    /// The settings as read, for `stockd config` (and what tests assert layering on).
    pub settings: Settings,
    pub server: ServerSection,
    pub store: StoreSection,
    pub providers: ProvidersSection,
    /// The read path's section.
    pub market: MarketConfig,
    pub web: WebSection,
    /// What this process runs besides the HTTP API.
    pub roles: Roles,
    /// How live streams are bounded.
    pub stream: service::stream::StreamSettings,
    pub ingest: IngestSection,
    pub alerts: AlertsSection,
    pub notify: NotifySection,
    pub signals: SignalsSection,
    pub news: NewsSection,
    pub sentiment: SentimentSection,
    pub archive: ArchiveSection,
    pub telemetry: TelemetrySection,
}

/// The market-data provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    Sample,
    AlphaVantage,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON unless standard output is a terminal.
    Auto,
    Json,
    Pretty,
}

/// A configuration that cannot run; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Parse(String),
    #[error("{setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

impl Config {
    /// Loads the layers for this command line from the process environment.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        Self::load_from(cli, std::env::vars())
    }

    /// Loads the layers with an explicit environment (for tests).
    pub fn load_from(
        cli: &Cli,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = &cli.config {
            if !path.is_file() {
                return Err(invalid(
                    "--config",
                    format!("no such file: {}", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let (aliases, prefixed) = layers::environment(&env);
        figment = figment
            .merge(aliases)
            .merge(prefixed)
            .merge(NamedLayer::flags(&cli.overrides));
        let mut settings: Settings = figment
            .extract()
            .map_err(|err| ConfigError::Parse(describe_figment_error(err)))?;
        settings.object_store_env = env
            .iter()
            .filter(|(name, _)| {
                OBJECT_STORE_ENV_PREFIXES
                    .iter()
                    .any(|p| name.starts_with(p))
            })
            .map(|(name, value)| (name.clone(), SecretString::from(value.clone())))
            .collect();
        Self::from_settings(settings)
    }

    /// Names of `STOCKD_*` variables in `env` that are not settings (typos, stale names).
    pub fn unknown_env_names(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        layers::unknown_env_names(env)
    }

    /// The configuration as text, secrets redacted.
    pub fn render(&self, format: OutputFormat) -> String {
        self.settings.render(format)
    }
}

impl Settings {
    /// Checks the settings that are plain values (ranges, required pairs); those that are
    /// parsed (lists, URLs, schedules) are checked as their section is built.
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_quotas()?;
        self.validate_limits()?;
        if self.max_days == 0 {
            return Err(invalid("max_days", "must be at least 1"));
        }
        if !(1..=1_000_000).contains(&self.stream_replay) {
            return Err(invalid("stream_replay", "must be from 1 to 1000000"));
        }
        if !(1..=65_536).contains(&self.stream_queue) {
            return Err(invalid("stream_queue", "must be from 1 to 65536"));
        }
        if !(Duration::from_millis(100)..=Duration::from_secs(300)).contains(&self.stream_heartbeat)
        {
            return Err(invalid("stream_heartbeat", "must be from 100ms to 5m"));
        }
        if !(1..=self.max_days).contains(&self.ndays) {
            return Err(invalid(
                "ndays (NDAYS)",
                format!(
                    "must be from 1 to max_days ({}), got {}",
                    self.max_days, self.ndays
                ),
            ));
        }
        if self.cache_ttl.is_zero() {
            return Err(invalid(
                "cache_ttl (CACHE_TTL)",
                "must be more than 0 seconds",
            ));
        }
        if self.circuit_breaker_timeout.is_zero() {
            return Err(invalid(
                "circuit_breaker_timeout (CIRCUIT_BREAKER_TIMEOUT)",
                "must be more than 0 seconds",
            ));
        }
        if self.circuit_breaker_threshold == 0 {
            return Err(invalid("circuit_breaker_threshold", "must be at least 1"));
        }
        if self.upstream_timeout.is_zero() {
            return Err(invalid("upstream_timeout", "must be more than 0 seconds"));
        }
        for (setting, url) in [
            ("alphavantage_base_url", &self.alphavantage_base_url),
            ("finnhub_base_url", &self.finnhub_base_url),
            ("yahoo_base_url", &self.yahoo_base_url),
            ("polygon_base_url", &self.polygon_base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    setting,
                    format!("must be an http:// or https:// URL, got '{url}'"),
                ));
            }
        }
        if self.provider_choice() == ProviderChoice::AlphaVantage && self.api_key().is_none() {
            return Err(invalid(
                "provider",
                "alphavantage needs an API key: set APIKEY or STOCKD_ALPHAVANTAGE_API_KEY (free keys at alphavantage.co)",
            ));
        }
        self.validate_ingest()?;
        self.validate_alerting()?;
        self.validate_accounts()?;
        self.validate_http()?;
        Ok(())
    }

    fn validate_ingest(&self) -> Result<(), ConfigError> {
        if self.ingest_workers > 64 {
            return Err(invalid("ingest_workers", "must be from 0 to 64"));
        }
        if !(1..=1_000).contains(&self.ingest_batch_size) {
            return Err(invalid("ingest_batch_size", "must be from 1 to 1000"));
        }
        if self.ingest_max_attempts == 0 {
            return Err(invalid("ingest_max_attempts", "must be at least 1"));
        }
        // Bounded above too: a dead worker's job waits a whole lease, and the lease's end is
        // a timestamp that must stay representable.
        if !(Duration::from_secs(3)..=Duration::from_secs(3600)).contains(&self.ingest_lease) {
            return Err(invalid("ingest_lease", "must be from 3 seconds to 1 hour"));
        }
        if self.ingest_retry_backoff.is_zero() {
            return Err(invalid(
                "ingest_retry_backoff",
                "must be more than 0 seconds",
            ));
        }
        Ok(())
    }

    /// The ingest workers' settings.
    fn ingest(&self) -> ingest::IngestConfig {
        ingest::IngestConfig {
            workers: self.ingest_workers,
            batch_size: self.ingest_batch_size,
            max_attempts: self.ingest_max_attempts,
            retry_backoff: self.ingest_retry_backoff,
            max_backoff: Duration::from_secs(3_600).max(self.ingest_retry_backoff),
            lease: self.ingest_lease,
            poll_interval: Duration::from_secs(2),
        }
    }

    /// The ingest schedule.
    fn schedule(&self) -> Result<ingest::Schedule, ConfigError> {
        ingest::Schedule::new(&self.ingest_schedule, &self.ingest_time_zone)
            .map_err(|err| invalid("ingest_schedule", err.to_string()))
    }

    /// The configured Alpha Vantage key, if any (an empty value counts as unset).
    pub fn api_key(&self) -> Option<&SecretString> {
        chain::non_empty(self.alphavantage_api_key.as_ref())
    }

    /// Which provider serves market data.
    pub fn provider_choice(&self) -> ProviderChoice {
        self.provider.unwrap_or(if self.api_key().is_some() {
            ProviderChoice::AlphaVantage
        } else {
            ProviderChoice::Sample
        })
    }

    /// The address to listen on.
    fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind, self.port)
    }

    /// The SQLite file used when no `database_url` is set.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("stockd.db")
    }

    /// The database to open: `database_url`, or the SQLite file under `data_dir` when it is
    /// unset or empty.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                url.expose_secret().trim().to_owned()
            }
            _ => self.database_path().display().to_string(),
        }
    }

    /// The archive's URL: `archive_url`, or the folder `archive` under `data_dir` when it is
    /// unset or empty.
    pub fn archive_url(&self) -> String {
        match &self.archive_url {
            Some(url) if !url.expose_secret().trim().is_empty() => {
                url.expose_secret().trim().to_owned()
            }
            _ => self.data_dir.join("archive").display().to_string(),
        }
    }

    /// The admin token, if one is set (an empty value counts as unset).
    fn admin_token(&self) -> Option<&SecretString> {
        chain::non_empty(self.admin_token.as_ref())
    }

    /// The feature flags.
    fn features(&self) -> Result<web::features::Features, ConfigError> {
        web::features::Features::from_settings(&self.features)
            .map_err(|reason| invalid("features", reason))
    }

    /// The read path's section.
    fn market(&self) -> MarketConfig {
        MarketConfig {
            cache_ttl: self.cache_ttl,
            quote_ttl: self.quote_ttl,
            stale_retry: self.stale_retry,
            cache_max_bars: self.cache_max_bars,
            breaker: BreakerConfig {
                failure_threshold: self.circuit_breaker_threshold,
                open_for: self.circuit_breaker_timeout,
            },
            retry: RetryConfig {
                attempt_timeout: self.upstream_timeout,
                max_retries: self.upstream_retries,
                initial_backoff: self.upstream_backoff,
                max_backoff: self.upstream_backoff.saturating_mul(10),
            },
            quotas: self.quota_limits(),
            unknown_symbol_ttl: self.unknown_symbol_ttl,
            clock: market::Clock::System,
        }
    }

    /// The configuration as text, secrets redacted.
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Json => serde_json::to_string_pretty(self).unwrap_or_default(),
            OutputFormat::Toml => {
                let mut out = String::from("# effective stockd configuration (secrets redacted)\n");
                let _ = write!(out, "{}", toml::to_string(self).unwrap_or_default());
                out
            }
        }
    }
}

/// A secret URL setting as `stockd config` prints it ([`redact_url`]).
fn redact_secret_url<S: Serializer>(
    url: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&redact_url(url.expose_secret())),
        None => serializer.serialize_none(),
    }
}

fn redact<S: Serializer>(key: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match key {
        Some(_) => serializer.serialize_some("[redacted]"),
        None => serializer.serialize_none(),
    }
}
