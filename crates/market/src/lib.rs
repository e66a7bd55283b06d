//! The read path: everything between a handler asking for a symbol's prices and a provider
//! being called.
//!
//! `Market::daily(symbol)` answers from the cache when fresh (cache by symbol, never by
//! symbol + days: every window is a slice of one series). On a miss, one caller per symbol
//! loads while the others wait (single-flight): fresh rows in the store are used as they are
//! (so a restart does not refetch), otherwise the providers of that capability are asked in
//! order, one at a time, each through its own circuit breaker with a timeout and retries, until
//! one answers; the result is upserted into the store. When every provider fails (or is
//! skipped, its breaker open or its quota spent) and an older copy exists (in the cache or the
//! store), that copy is served and marked [`CacheStatus::Stale`] instead of an error.
//!
//! Each provider's calls are counted per UTC minute and day against its configured quota and
//! recorded in the store ([`Market::restore_usage`] reloads them after a restart); a provider
//! whose quota is spent is skipped without a call, one that answered "rate limited" is paused
//! until the limit it reported resets (kept in the store too, so restarts and replicas respect
//! it), and one that said a symbol is unknown is not asked about it again for
//! `unknown_symbol_ttl`. Part of each quota can be reserved for
//! ingestion ([`Market::refresh_daily`]): reads stop short of it. A read may also carry the
//! caller's own [`UpstreamBudget`] (the web edge keeps one per client), charged only when the
//! read is about to ask a provider, so cached and stored answers never spend it.
//!
//! Answers about the request itself (unknown symbol, no data) never count against the breaker.
//! They are errors only when nothing is stored: stored history (bars loaded with `stockd
//! import`, or fetched before a provider stopped knowing the symbol) is served as it is, with
//! its own `source`, since no provider has anything newer for it.

mod breaker;
mod clock;
mod read_through;
mod storage;
mod upstream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use domain::news::NewsItem;
use domain::{Quote, Series, Symbol};
use providers::news::NewsSource;
use providers::{MarketData, ProviderError};
use store::Bars;

pub use breaker::{BreakerConfig, BreakerSnapshot, BreakerState, CircuitBreaker};
pub use clock::Clock;
use read_through::{Loaded, ReadThrough};
pub use storage::MarketStore;
pub use upstream::RetryConfig;
use upstream::chain::Chain;
use upstream::chain::Spender;
pub use upstream::chain::{Capability, ProviderCapability, ProviderStatus};
pub use upstream::pause::{PauseStatus, ProviderLimit};
pub use upstream::quota::{Purpose, QuotaLimits, QuotaStatus, QuotaWindow, WindowUsage};

/// A caller's allowance of reads that reach a provider (a cache or store answer costs none).
pub trait UpstreamBudget: Send + Sync {
    /// Spends one read, or says how long until one is allowed.
    fn take(&self) -> Result<(), Duration>;
}

/// No allowance to keep: every read may ask a provider (the CLI, background work, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unmetered;

impl UpstreamBudget for Unmetered {
    fn take(&self) -> Result<(), Duration> {
        Ok(())
    }
}

/// A request's walk down the chain, unmetered.
const REQUEST: Spender<'static> = Spender {
    purpose: Purpose::Request,
    budget: &Unmetered,
};

/// Caching and resilience settings of the read path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketConfig {
    /// How long a daily series is served without asking again (`CACHE_TTL`).
    pub cache_ttl: Duration,
    /// How long a latest quote is served without asking again.
    pub quote_ttl: Duration,
    /// How long a stale copy is served before the upstream is tried again.
    pub stale_retry: Duration,
    /// Upper bound of the daily cache, in bars (about 64 bytes each).
    pub cache_max_bars: u64,
    pub breaker: BreakerConfig,
    pub retry: RetryConfig,
    /// Call quotas by provider name; a provider not listed is unlimited.
    pub quotas: BTreeMap<String, QuotaLimits>,
    /// How long a provider's "unknown symbol" answer is remembered (that provider is not asked
    /// about that symbol again until then); zero remembers nothing.
    pub unknown_symbol_ttl: Duration,
    /// The wall clock quota windows and the age of stored rows are counted by.
    pub clock: Clock,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(300),
            quote_ttl: Duration::from_secs(60),
            stale_retry: Duration::from_secs(10),
            cache_max_bars: 2_000_000,
            breaker: BreakerConfig::default(),
            retry: RetryConfig::default(),
            quotas: BTreeMap::new(),
            unknown_symbol_ttl: Duration::from_secs(3600),
            clock: Clock::System,
        }
    }
}

/// Where an answer came from, for the `x-stockd-cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from memory, fresh.
    Hit,
    /// Loaded for this request (from the store or the provider).
    Miss,
    /// An older copy, served because the provider could not give a fresh one.
    Stale,
}

impl CacheStatus {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Stale => "stale",
        }
    }
}

/// A value with how it was served.
#[derive(Debug, Clone)]
pub struct Served<T> {
    pub value: Arc<T>,
    pub cache: CacheStatus,
}

/// What [`Market::refresh_daily`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    /// The provider that answered.
    pub provider: &'static str,
    /// Bars within the requested range.
    pub bars: usize,
    /// Of those, bars the store did not have as they are (inserted or changed).
    pub changed: u64,
    /// The provider's oldest bar: a backfill asking for earlier dates learns where its history
    /// starts.
    pub first_available: Option<NaiveDate>,
    /// The provider's newest bar.
    pub last_available: Option<NaiveDate>,
}

/// Why the read path could not answer.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// No provider could answer (this is the most useful of their failures) and no older copy
    /// could stand in.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A provider's breaker is open, no other provider answered, and no older copy exists.
    #[error("{provider} is unavailable (circuit breaker open); retry in {}s", retry_after.as_secs().max(1))]
    BreakerOpen {
        provider: &'static str,
        retry_after: Duration,
    },
    /// A provider's configured call quota is spent for the current UTC minute or day (for a
    /// request: up to the part reserved for ingestion), no other provider answered, and no
    /// older copy exists.
    #[error("{provider}'s {window} call quota is spent until {resets_at}; retry in {}s", retry_after.as_secs().max(1))]
    QuotaExhausted {
        provider: &'static str,
        window: QuotaWindow,
        /// The window's configured limit (`quotas.<provider>.per_minute` / `per_day`).
        limit: u64,
        /// When the spent window ends (UTC).
        resets_at: DateTime<Utc>,
        retry_after: Duration,
        /// When a request stopped at the reserve: the window's calls kept for scheduled
        /// ingestion. 0 when the whole window is spent.
        reserved: u64,
    },
    /// A provider reported one of its own limits reached (Alpha Vantage's 25 requests a day)
    /// and is not called until `until`, when that limit resets; no other provider answered and
    /// no older copy exists.
    #[error("{provider} reported its {limit} reached; it is not called until {until}; retry in {}s", retry_after.as_secs().max(1))]
    ProviderPaused {
        provider: &'static str,
        limit: ProviderLimit,
        until: DateTime<Utc>,
        retry_after: Duration,
    },
    /// The caller's [`UpstreamBudget`] is spent, and no older copy exists.
    #[error("this caller's reads that reach a provider are spent; retry in {}s", retry_after.as_secs().max(1))]
    ReadBudgetSpent { retry_after: Duration },
    /// The store could not take the fetched bars (ingestion only: reads serve them anyway).
    #[error("could not store the fetched bars: {0}")]
    Store(String),
    /// A bug: a state the read path should never reach.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Articles one news source gave for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedNews {
    /// Newest first, at most the limit asked for.
    pub items: Vec<NewsItem>,
    /// The source that answered.
    pub provider: &'static str,
}

/// The read path over an ordered chain of providers and the store.
#[derive(Debug)]
pub struct Market {
    chain: Chain,
    /// Where served bars are read from and fetched ones written to.
    bars: Arc<dyn Bars>,
    daily: ReadThrough<Series>,
    quotes: ReadThrough<Quote>,
    config: MarketConfig,
}

impl Market {
    /// Builds the read path over one provider serving both daily history and quotes.
    ///
    /// `store` is anything with the two parts the read path uses ([`MarketStore`]): a whole
    /// `Arc<dyn Store>` is narrowed to them here.
    pub fn new(
        provider: Arc<dyn MarketData>,
        store: impl Into<MarketStore>,
        config: MarketConfig,
    ) -> Self {
        Self::with_providers(vec![provider.clone()], vec![provider], store, config)
    }

    /// Builds the read path over ordered provider chains: `daily` is asked for history, `quote`
    /// for latest quotes, each in order until one answers.
    ///
    /// A provider appearing in both lists (the same `Arc`) has one breaker for both.
    pub fn with_providers(
        daily_providers: Vec<Arc<dyn MarketData>>,
        quote_providers: Vec<Arc<dyn MarketData>>,
        store: impl Into<MarketStore>,
        config: MarketConfig,
    ) -> Self {
        Self::with_sources(daily_providers, quote_providers, Vec::new(), store, config)
    }

    /// [`Market::with_providers`] plus an ordered chain of news sources for [`Market::news`]
    /// (none: news is off).
    ///
    /// A news source named like a market-data provider (`alphavantage`, `finnhub`, `polygon`)
    /// shares that provider's breaker, quota and pause: the same key, counted once.
    pub fn with_sources(
        daily_providers: Vec<Arc<dyn MarketData>>,
        quote_providers: Vec<Arc<dyn MarketData>>,
        news_sources: Vec<Arc<dyn NewsSource>>,
        store: impl Into<MarketStore>,
        config: MarketConfig,
    ) -> Self {
        // The upstream only records calls and pauses: it gets that part of the store.
        let MarketStore { bars, usage } = store.into();
        let chain = Chain::new(
            daily_providers,
            quote_providers,
            news_sources,
            &usage,
            &config,
        );
        let daily = ReadThrough::new(
            "daily",
            config.cache_ttl,
            config.stale_retry,
            config.cache_max_bars,
            |series: &Series| u32::try_from(series.bars().len()).unwrap_or(u32::MAX),
            // A series of a few years of trading days.
            1_000,
        );
        let quotes = ReadThrough::new(
            "quote",
            config.quote_ttl,
            config.stale_retry,
            100_000,
            |_| 1,
            1,
        );
        Self {
            chain,
            bars,
            daily,
            quotes,
            config,
        }
    }

    /// True when at least one news source is configured.
    pub fn news_enabled(&self) -> bool {
        self.chain.has_news()
    }

    /// Up to `limit` recent articles about `symbol` (published at or after `since`), from the
    /// first news source in order that answers, through the same breakers, quotas, pauses and
    /// retries as market data; `purpose` decides how much of each quota it may spend.
    /// `Ok(None)` when news is off (no source configured). Nothing is cached or stored here.
    pub async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
        purpose: Purpose,
    ) -> Result<Option<FetchedNews>, MarketError> {
        self.news_since(symbol, &|_| since, limit, purpose).await
    }

    /// The news sources' names, in the order [`Market::news`] asks them (empty: news is off).
    pub fn news_sources(&self) -> Vec<&'static str> {
        self.chain.news_names()
    }

    /// [`Market::news`] where each source is asked from its own instant: `since(name)` for the
    /// source named `name` (ingestion passes each source's cursor, so a fallback source is
    /// asked from where it stopped, not from where the first source did).
    pub async fn news_since(
        &self,
        symbol: Symbol,
        since: &(dyn Fn(&'static str) -> Option<DateTime<Utc>> + Sync),
        limit: u32,
        purpose: Purpose,
    ) -> Result<Option<FetchedNews>, MarketError> {
        if !self.chain.has_news() {
            return Ok(None);
        }
        let spender = Spender {
            purpose,
            budget: &Unmetered,
        };
        let (items, provider) = self
            .chain
            .call_news("news", symbol, spender, |source| {
                let since = since(source.name());
                async move { source.news(symbol, since, limit).await }
            })
            .await?;
        Ok(Some(FetchedNews { items, provider }))
    }

    /// The symbol's daily series (every bar the provider gives), fresh or marked stale.
    pub async fn daily(&self, symbol: Symbol) -> Result<Served<Series>, MarketError> {
        self.daily_with(symbol, &Unmetered).await
    }

    /// [`Market::daily`], charging `budget` if the read must ask a provider.
    pub async fn daily_with(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<Served<Series>, MarketError> {
        let spender = Spender {
            purpose: Purpose::Request,
            budget,
        };
        self.daily
            .get(symbol, |cached| self.load_daily(symbol, cached, spender))
            .await
    }

    /// The symbol's latest quote, fresh or marked stale.
    pub async fn quote(&self, symbol: Symbol) -> Result<Served<Quote>, MarketError> {
        self.quote_with(symbol, &Unmetered).await
    }

    /// [`Market::quote`], charging `budget` if the read must ask a provider.
    pub async fn quote_with(
        &self,
        symbol: Symbol,
        budget: &dyn UpstreamBudget,
    ) -> Result<Served<Quote>, MarketError> {
        let spender = Spender {
            purpose: Purpose::Request,
            budget,
        };
        self.quotes
            .get(symbol, |cached| async move {
                match self
                    .chain
                    .call(
                        Capability::Quote,
                        "quote",
                        symbol,
                        spender,
                        |p| async move { p.quote(symbol).await },
                    )
                    .await
                {
                    Ok((quote, _)) => Ok(Loaded::Fresh {
                        value: Arc::new(quote),
                        age: Duration::ZERO,
                    }),
                    Err(err) => stale_or(cached, err),
                }
            })
            .await
    }

    /// Asks the quote providers now, whatever the cache holds (the alert poller: a tick must be
    /// new), and caches the answer for readers. It spends the requests' share of each quota:
    /// its symbols are the ones users' rules name.
    pub async fn refresh_quote(&self, symbol: Symbol) -> Result<Quote, MarketError> {
        let (quote, _) = self
            .chain
            .call(
                Capability::Quote,
                "quote",
                symbol,
                REQUEST,
                |p| async move { p.quote(symbol).await },
            )
            .await?;
        self.quotes.put_fresh(symbol, Arc::new(quote.clone())).await;
        Ok(quote)
    }

    /// The name of the first provider asked for daily history.
    pub fn provider_name(&self) -> &'static str {
        self.chain.primary_name()
    }

    /// Every provider's circuit breaker.
    pub fn breakers(&self) -> Vec<BreakerSnapshot> {
        self.chain.breakers()
    }

    /// Every provider: its place in each capability's order, breaker state, calls made and
    /// last error.
    pub fn providers(&self) -> Vec<ProviderStatus> {
        self.chain.statuses()
    }

    /// Loads every provider's quota use recorded in the store, so a restart does not forget
    /// what was spent today. Call once after building; a store failure is logged, not fatal.
    pub async fn restore_usage(&self) {
        self.chain.restore_usage().await;
    }

    /// Refreshes the `stock_api_provider_quota_remaining` gauges, which otherwise change only
    /// when a provider is called (a window that reset without a call would still read spent).
    pub fn publish_quota_metrics(&self) {
        self.chain.publish_quotas();
    }

    /// The read path's settings.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// Forgets every cached answer (the store keeps its rows).
    pub fn clear_cache(&self) {
        self.daily.clear();
        self.quotes.clear();
    }

    /// Fetches `symbol`'s daily history from the providers now, whatever the cache or the store
    /// hold (ingestion), and upserts the bars dated within `from..=to` (either end open).
    ///
    /// The cached series is dropped rather than replaced, so the next read serves the store's
    /// merged history (older backfilled bars included), not only what this provider returned.
    ///
    /// This is ingestion's call: it may spend the part of each quota reserved for ingestion.
    pub async fn refresh_daily(
        &self,
        symbol: Symbol,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Refreshed, MarketError> {
        let ingestion = Spender {
            purpose: Purpose::Ingestion,
            budget: &Unmetered,
        };
        let (series, provider) = self
            .chain
            .call(
                Capability::Daily,
                "daily",
                symbol,
                ingestion,
                |p| async move { p.daily(symbol).await },
            )
            .await?;
        let first_available = series.bars().first().map(|bar| bar.date);
        let last_available = series.latest().map(|bar| bar.date);
        let wanted = series.between(from, to).to_vec();
        let bars = wanted.len();
        let changed = if wanted.is_empty() {
            0
        } else {
            let in_range = Series::new(symbol, wanted, series.source.clone(), series.fetched_at);
            self.bars
                .upsert_series(&in_range)
                .await
                .map_err(|err| MarketError::Store(err.to_string()))?
        };
        metrics::counter!("stock_api_bars_upserted_total", "provider" => provider)
            .increment(changed);
        self.daily.invalidate(symbol).await;
        Ok(Refreshed {
            provider,
            bars,
            changed,
            first_available,
            last_available,
        })
    }

    async fn load_daily(
        &self,
        symbol: Symbol,
        cached: Option<Arc<Series>>,
        spender: Spender<'_>,
    ) -> Result<Loaded<Series>, MarketError> {
        let stored = match cached {
            Some(_) => None,
            None => self.load_stored(symbol).await,
        };
        if let Some(series) = &stored {
            // The injected clock, like quota windows: a test on a paused clock decides when
            // stored rows go stale.
            let age = (self.config.clock.now() - series.fetched_at)
                .to_std()
                .unwrap_or(Duration::ZERO);
            if age < self.config.cache_ttl {
                return Ok(Loaded::Fresh {
                    value: series.clone(),
                    age,
                });
            }
        }
        match self
            .chain
            .call(
                Capability::Daily,
                "daily",
                symbol,
                spender,
                |p| async move { p.daily(symbol).await },
            )
            .await
        {
            Ok((series, provider)) => {
                match self.bars.upsert_series(&series).await {
                    Ok(changed) => {
                        metrics::counter!("stock_api_bars_upserted_total", "provider" => provider)
                            .increment(changed);
                    }
                    Err(err) => {
                        tracing::warn!(%symbol, error = %err, "could not store fetched bars; serving them anyway");
                    }
                }
                Ok(Loaded::Fresh {
                    value: Arc::new(series),
                    age: Duration::ZERO,
                })
            }
            Err(err) => stored_or(cached.or(stored), err),
        }
    }

    async fn load_stored(&self, symbol: Symbol) -> Option<Arc<Series>> {
        match self.bars.load_series(symbol).await {
            Ok(series) => series.filter(|s| !s.is_empty()).map(Arc::new),
            Err(err) => {
                tracing::warn!(%symbol, error = %err, "could not read stored bars; asking the provider");
                None
            }
        }
    }
}

/// A stored (or cached) series when the providers could not refresh it: served as it is when
/// they say they have nothing for the symbol (imported history, a delisted ticker: nothing newer
/// exists to fetch, so it is not stale, and it stays fresh for a whole `cache_ttl`), as a stale
/// copy on upstream trouble; nothing stored, the error.
fn stored_or(older: Option<Arc<Series>>, err: MarketError) -> Result<Loaded<Series>, MarketError> {
    match older {
        Some(value) if answers_about_the_symbol(&err) => {
            tracing::debug!(symbol = %value.symbol, source = %value.source, error = %err, "no provider has this symbol; serving its stored history");
            Ok(Loaded::Fresh {
                value,
                age: Duration::ZERO,
            })
        }
        older => stale_or(older, err),
    }
}

/// Whether the providers said they have nothing for the symbol (unknown, no data).
fn answers_about_the_symbol(err: &MarketError) -> bool {
    matches!(
        err,
        MarketError::Provider(ProviderError::UnknownSymbol { .. } | ProviderError::NoData { .. })
    )
}

/// Serves an older copy when the failure is upstream trouble; definite answers (unknown symbol,
/// no data, a request the provider cannot serve at all) are returned as they are.
fn stale_or<V>(older: Option<Arc<V>>, err: MarketError) -> Result<Loaded<V>, MarketError> {
    let upstream_trouble = match &err {
        MarketError::Provider(
            ProviderError::UnknownSymbol { .. }
            | ProviderError::NoData { .. }
            | ProviderError::NotSupported { .. },
        ) => false,
        MarketError::Provider(_)
        | MarketError::BreakerOpen { .. }
        | MarketError::QuotaExhausted { .. }
        | MarketError::ProviderPaused { .. }
        | MarketError::ReadBudgetSpent { .. } => true,
        MarketError::Internal(_) | MarketError::Store(_) => false,
    };
    match older {
        Some(value) if upstream_trouble => {
            tracing::warn!(error = %err, "upstream failed; serving a stale copy");
            Ok(Loaded::Stale(value))
        }
        _ => Err(err),
    }
}
