//! A per-symbol read-through cache with single-flight loading and stale copies.
//!
//! Freshness is judged on tokio's clock (so tests can pause and advance it), not by moka's own
//! TTL: an entry past its freshness is kept (within the cache's size bound) because it is the
//! stale copy served when the upstream fails. Loads for one symbol are serialised through
//! moka's per-key `and_try_compute_with`, so N concurrent misses make one upstream call while
//! other symbols load in parallel; the fast path is a lock-free `get`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::Symbol;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use tokio::time::Instant;

use crate::{CacheStatus, MarketError, Served};

/// What a load produced.
pub(crate) enum Loaded<V> {
    /// A value that is `age` old (0 for a fresh upstream answer; more when read from the store).
    Fresh { value: Arc<V>, age: Duration },
    /// An older copy, served because the upstream could not give a fresh one.
    Stale(Arc<V>),
}

#[derive(Debug)]
struct Entry<V> {
    value: Arc<V>,
    fresh_until: Instant,
    stale: bool,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            fresh_until: self.fresh_until,
            stale: self.stale,
        }
    }
}

impl<V> Entry<V> {
    fn served(self, status: CacheStatus) -> Served<V> {
        let cache = if self.stale {
            CacheStatus::Stale
        } else {
            status
        };
        Served {
            value: self.value,
            cache,
        }
    }
}

/// A cache of `V` per symbol.
pub(crate) struct ReadThrough<V: Send + Sync + 'static> {
    name: &'static str,
    hits: metrics::Counter,
    misses: metrics::Counter,
    cache: Cache<Symbol, Entry<V>, foldhash::fast::RandomState>,
    ttl: Duration,
    stale_retry: Duration,
}

impl<V: Send + Sync + 'static> std::fmt::Debug for ReadThrough<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadThrough")
            .field("name", &self.name)
            .field("entries", &self.cache.entry_count())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl<V: Send + Sync + 'static> ReadThrough<V> {
    /// A cache bounded to `capacity` weight units, each entry weighing `weigh(value)`.
    pub(crate) fn new(
        name: &'static str,
        ttl: Duration,
        stale_retry: Duration,
        capacity: u64,
        weigh: fn(&V) -> u32,
    ) -> Self {
        let cache = Cache::builder()
            .max_capacity(capacity)
            .weigher(move |_: &Symbol, entry: &Entry<V>| weigh(&entry.value).max(1))
            // Only symbols that loaded are inserted, so the keys are not the client's choice.
            .build_with_hasher(foldhash::fast::RandomState::default());
        Self {
            name,
            hits: metrics::counter!("stock_api_cache_hits_total", "cache" => name),
            misses: metrics::counter!("stock_api_cache_misses_total", "cache" => name),
            cache,
            ttl,
            stale_retry,
        }
    }

    /// The cached value when fresh; otherwise one caller runs `load` (given the previous copy,
    /// if any) while concurrent callers for the same symbol wait for its result.
    pub(crate) async fn get<F, Fut>(
        &self,
        symbol: Symbol,
        load: F,
    ) -> Result<Served<V>, MarketError>
    where
        F: FnOnce(Option<Arc<V>>) -> Fut,
        Fut: Future<Output = Result<Loaded<V>, MarketError>>,
    {
        if let Some(entry) = self.cache.get(&symbol).await
            && Instant::now() < entry.fresh_until
        {
            return Ok(self.count(entry.served(CacheStatus::Hit)));
        }
        // Boxed: inline, the load's state (a store read, a provider call) would make every
        // cached read's future as large, and each move of it a large copy.
        Box::pin(self.load(symbol, load)).await
    }

    /// The miss path of [`ReadThrough::get`].
    async fn load<F, Fut>(&self, symbol: Symbol, load: F) -> Result<Served<V>, MarketError>
    where
        F: FnOnce(Option<Arc<V>>) -> Fut,
        Fut: Future<Output = Result<Loaded<V>, MarketError>>,
    {
        let (ttl, stale_retry) = (self.ttl, self.stale_retry);
        let result = self
            .cache
            .entry(symbol)
            .and_try_compute_with(|existing| async move {
                let existing = existing.map(|entry| entry.into_value());
                if let Some(entry) = &existing
                    && Instant::now() < entry.fresh_until
                {
                    // Another caller refreshed it while we waited for the key.
                    return Ok(Op::Nop);
                }
                let entry = match load(existing.map(|entry| entry.value)).await? {
                    Loaded::Fresh { value, age } => Entry {
                        value,
                        fresh_until: Instant::now() + ttl.saturating_sub(age),
                        stale: false,
                    },
                    Loaded::Stale(value) => Entry {
                        value,
                        fresh_until: Instant::now() + stale_retry,
                        stale: true,
                    },
                };
                Ok::<_, MarketError>(Op::Put(entry))
            })
            .await?;
        let served = match result {
            CompResult::Inserted(entry) | CompResult::ReplacedWith(entry) => {
                entry.into_value().served(CacheStatus::Miss)
            }
            CompResult::Unchanged(entry) => entry.into_value().served(CacheStatus::Hit),
            CompResult::StillNone(_) | CompResult::Removed(_) => {
                return Err(MarketError::Internal("cache load produced no value"));
            }
        };
        Ok(self.count(served))
    }

    /// Stores a value just loaded elsewhere as the symbol's fresh entry.
    pub(crate) async fn put_fresh(&self, symbol: Symbol, value: Arc<V>) {
        let entry = Entry {
            value,
            fresh_until: Instant::now() + self.ttl,
            stale: false,
        };
        self.cache.insert(symbol, entry).await;
    }

    /// Drops one symbol's entry, so its next read loads again (from the store, when fresh).
    pub(crate) async fn invalidate(&self, symbol: Symbol) {
        self.cache.invalidate(&symbol).await;
    }

    /// Drops every entry (tests and admin tools).
    pub(crate) fn clear(&self) {
        self.cache.invalidate_all();
    }

    fn count(&self, served: Served<V>) -> Served<V> {
        // Stale answers count as misses: they are not the fresh copy a hit promises.
        match served.cache {
            CacheStatus::Hit => self.hits.increment(1),
            CacheStatus::Miss | CacheStatus::Stale => self.misses.increment(1),
        }
        served
    }
}
