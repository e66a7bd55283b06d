//! A scripted fake provider and the helpers the read-path tests share.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Bar, Price, Quote, Series, Symbol};
use market::{BreakerConfig, Clock, Market, MarketConfig, RetryConfig};
use providers::{MarketData, ProviderError};
use store::Store;

pub(crate) fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

pub(crate) fn series(symbol: Symbol, close: &str) -> Series {
    series_from("scripted", symbol, close)
}

/// A one-bar series as `source` would give it.
pub(crate) fn series_from(source: &str, symbol: Symbol, close: &str) -> Series {
    let close: Price = close.parse().unwrap();
    let bar = Bar::new_checked(
        "2024-01-05".parse().unwrap(),
        close,
        close,
        close,
        close,
        1,
        None,
    )
    .unwrap();
    Series::new(symbol, vec![bar], source, Utc::now())
}

/// A one-bar series fetched at `fetched_at` (stored rows whose age the test decides).
pub(crate) fn series_fetched_at(symbol: Symbol, close: &str, fetched_at: DateTime<Utc>) -> Series {
    let bars = series(symbol, close).bars().to_vec();
    Series::new(symbol, bars, "scripted", fetched_at)
}

pub(crate) fn upstream_error() -> ProviderError {
    ProviderError::Upstream {
        provider: "scripted",
        detail: "HTTP 500".into(),
    }
}

pub(crate) fn unknown(symbol: Symbol) -> ProviderError {
    ProviderError::UnknownSymbol {
        symbol,
        detail: "no such ticker".into(),
    }
}

/// A provider that answers from a script (then repeats its default), counts calls, and can
/// hold every call for a while to make concurrency observable.
#[derive(Debug, Default)]
pub(crate) struct Scripted {
    script: Mutex<VecDeque<Result<String, ProviderError>>>,
    default: Mutex<Option<Result<String, ProviderError>>>,
    /// Empty means "scripted".
    name: &'static str,
    calls: AtomicUsize,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) delay: Mutex<Duration>,
}

impl Scripted {
    pub(crate) fn answering(close: &str) -> Arc<Self> {
        Self::named("", Ok(close.into()))
    }

    /// A provider with its own name, answering `answer` by default.
    pub(crate) fn named(name: &'static str, answer: Result<String, ProviderError>) -> Arc<Self> {
        let provider = Arc::new(Self {
            name,
            ..Self::default()
        });
        provider.set_default(answer);
        provider
    }

    pub(crate) fn set_default(&self, answer: Result<String, ProviderError>) {
        *self.default.lock().unwrap() = Some(answer);
    }

    pub(crate) fn push(&self, answer: Result<String, ProviderError>) {
        self.script.lock().unwrap().push_back(answer);
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn next(&self) -> Result<String, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let scripted = self.script.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| {
            self.default
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| Err(upstream_error()))
        })
    }
}

#[async_trait]
impl MarketData for Scripted {
    fn name(&self) -> &'static str {
        if self.name.is_empty() {
            "scripted"
        } else {
            self.name
        }
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        let name = self.name();
        self.next()
            .await
            .map(|close| series_from(name, symbol, &close))
    }

    async fn quote(&self, symbol: Symbol) -> Result<Quote, ProviderError> {
        self.next().await.map(|close| Quote {
            symbol,
            price: close.parse().unwrap(),
            previous_close: None,
            trading_day: "2024-01-05".parse().unwrap(),
            as_of: None,
            source: self.name().into(),
            fetched_at: Utc::now(),
        })
    }
}

pub(crate) fn config() -> MarketConfig {
    MarketConfig {
        cache_ttl: Duration::from_secs(300),
        quote_ttl: Duration::from_secs(60),
        stale_retry: Duration::from_secs(10),
        cache_max_bars: 10_000,
        breaker: BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(30),
        },
        retry: RetryConfig {
            attempt_timeout: Duration::from_secs(5),
            max_retries: 0,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        },
        quotas: BTreeMap::new(),
        unknown_symbol_ttl: Duration::from_secs(3600),
        // Quota windows move with the paused clock, from a known UTC instant.
        clock: Clock::tokio_from(start()),
    }
}

/// The UTC time at which the tests' quota clock starts.
pub(crate) fn start() -> DateTime<Utc> {
    "2026-11-28T10:00:00Z".parse().unwrap()
}

pub(crate) fn market(
    provider: Arc<Scripted>,
    store: Arc<dyn Store>,
    config: MarketConfig,
) -> Arc<Market> {
    Arc::new(Market::new(provider, store, config))
}

pub(crate) fn close_of(served: &market::Served<Series>) -> String {
    served.value.latest().unwrap().close.to_string()
}
