//! A per-symbol read-through cache with single-flight loading and stale copies.
//!
//! Freshness is judged on tokio's clock (so tests can pause and advance it): an entry past its
//! freshness is kept (within the cache's size bound) because it is the stale copy served when
//! the upstream fails. Loads for one symbol are serialised through the cache's per-key
//! placeholder, so N concurrent misses make one upstream call while other symbols load in
//! parallel; a hit is one read-locked lookup in one shard.
//!
//! quick_cache rather than moka: a hit is a shard's read lock, a hash probe and one atomic bit
//! (moka also records every read in a channel for its frequency sketch and checks expiry: about
//! 900 instructions of a cached read's 24,000, see `bench/instructions.sh`), and it keeps no
//! housekeeping state per entry.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::Symbol;
use quick_cache::sync::{Cache, DefaultLifecycle, EntryAction, EntryResult, PlaceholderGuard};
use quick_cache::{OptionsBuilder, Weighter};
use tokio::time::Instant;

use crate::{CacheStatus, MarketError, Served};

/// Each shard of the cache holds at least this much weight, so one long series (weighed in
/// bars; a century of trading days is 25,000) always fits in its shard.
const MIN_SHARD_WEIGHT: u64 = 65_536;

/// At most this many shards: a few per core is all the concurrency a read needs.
const MAX_SHARDS: u64 = 16;

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

/// Weighs an entry by its value, as the owner of the cache says.
struct Weigh<V>(fn(&V) -> u32);

impl<V> Clone for Weigh<V> {
    fn clone(&self) -> Self {
        Self(self.0)
    }
}

impl<V> Weighter<Symbol, Entry<V>> for Weigh<V> {
    fn weight(&self, _: &Symbol, entry: &Entry<V>) -> u64 {
        u64::from((self.0)(&entry.value).max(1))
    }
}

type Shards<V> = Cache<Symbol, Entry<V>, Weigh<V>, foldhash::fast::RandomState>;
type Guard<'a, V> = PlaceholderGuard<
    'a,
    Symbol,
    Entry<V>,
    Weigh<V>,
    foldhash::fast::RandomState,
    DefaultLifecycle<Symbol, Entry<V>>,
>;

/// A cache of `V` per symbol.
pub(crate) struct ReadThrough<V: Send + Sync + 'static> {
    name: &'static str,
    hits: metrics::Counter,
    misses: metrics::Counter,
    cache: Shards<V>,
    ttl: Duration,
    stale_retry: Duration,
}

impl<V: Send + Sync + 'static> std::fmt::Debug for ReadThrough<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadThrough")
            .field("name", &self.name)
            .field("entries", &self.cache.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl<V: Send + Sync + 'static> ReadThrough<V> {
    /// A cache bounded to `capacity` weight units, each entry weighing `weigh(value)`, a
    /// typical one `typical_weight` (the cache sizes its bookkeeping of recently evicted keys
    /// by the number of entries this gives; it allocates as entries arrive).
    pub(crate) fn new(
        name: &'static str,
        ttl: Duration,
        stale_retry: Duration,
        capacity: u64,
        weigh: fn(&V) -> u32,
        typical_weight: u64,
    ) -> Self {
        let capacity = capacity.max(1);
        let shards = (capacity / MIN_SHARD_WEIGHT).clamp(1, MAX_SHARDS);
        let estimated_items = (capacity / typical_weight.max(1)).clamp(32, 100_000);
        let options = OptionsBuilder::new()
            .shards(shards as usize)
            .weight_capacity(capacity)
            .estimated_items_capacity(estimated_items as usize)
            .build();
        let cache = match options {
            Ok(options) => Cache::with_options(
                options,
                Weigh(weigh),
                // Only symbols that loaded are inserted, so the keys are not the client's choice.
                foldhash::fast::RandomState::default(),
                DefaultLifecycle::default(),
            ),
            // Unreachable (both required options are set); a plain cache of the same bound.
            Err(_) => Cache::with(
                estimated_items as usize,
                capacity,
                Weigh(weigh),
                foldhash::fast::RandomState::default(),
                DefaultLifecycle::default(),
            ),
        };
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
        if let Some(entry) = self.cache.get(&symbol)
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
        let claimed = self
            .cache
            .entry_async(&symbol, |_, entry| {
                if Instant::now() < entry.fresh_until {
                    // Another caller refreshed it while we waited for the key.
                    EntryAction::Retain(entry.clone())
                } else {
                    EntryAction::ReplaceWithGuard
                }
            })
            .await;
        let mut refresh = match claimed {
            EntryResult::Retained(entry) => return Ok(self.count(entry.served(CacheStatus::Hit))),
            EntryResult::Vacant(guard) => Refresh::new(guard, None),
            EntryResult::Replaced(guard, previous) => Refresh::new(guard, Some(previous)),
            EntryResult::Removed(..) | EntryResult::Timeout => {
                return Err(MarketError::Internal("cache load found no entry to claim"));
            }
        };
        let previous = refresh.previous.as_ref().map(|entry| entry.value.clone());
        // On an error (or a cancelled read) the previous copy goes back as it was: `Refresh`.
        let entry = match load(previous).await? {
            Loaded::Fresh { value, age } => Entry {
                value,
                fresh_until: Instant::now() + self.ttl.saturating_sub(age),
                stale: false,
            },
            Loaded::Stale(value) => Entry {
                value,
                fresh_until: Instant::now() + self.stale_retry,
                stale: true,
            },
        };
        refresh.fill(entry.clone());
        Ok(self.count(entry.served(CacheStatus::Miss)))
    }

    /// Stores a value just loaded elsewhere as the symbol's fresh entry.
    pub(crate) async fn put_fresh(&self, symbol: Symbol, value: Arc<V>) {
        let entry = Entry {
            value,
            fresh_until: Instant::now() + self.ttl,
            stale: false,
        };
        self.cache.insert(symbol, entry);
    }

    /// Drops one symbol's entry, so its next read loads again (from the store, when fresh).
    pub(crate) async fn invalidate(&self, symbol: Symbol) {
        self.cache.remove(&symbol);
    }

    /// Drops every entry (tests and admin tools).
    pub(crate) fn clear(&self) {
        self.cache.clear();
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

/// A symbol's claimed slot while its value loads. Claiming takes the previous entry out of the
/// cache (the placeholder other readers wait on replaces it), so when the load fails or the
/// read is cancelled, dropping this puts the previous entry back: a stale copy is never lost
/// to a failed refresh.
struct Refresh<'a, V: Send + Sync + 'static> {
    guard: Option<Guard<'a, V>>,
    previous: Option<Entry<V>>,
}

impl<'a, V: Send + Sync + 'static> Refresh<'a, V> {
    fn new(guard: Guard<'a, V>, previous: Option<Entry<V>>) -> Self {
        Self {
            guard: Some(guard),
            previous,
        }
    }

    /// Stores the loaded entry (and wakes the readers waiting for it).
    fn fill(&mut self, entry: Entry<V>) {
        if let Some(guard) = self.guard.take() {
            let _ = guard.insert(entry);
        }
    }
}

impl<V: Send + Sync + 'static> Drop for Refresh<'_, V> {
    fn drop(&mut self) {
        if let (Some(guard), Some(previous)) = (self.guard.take(), self.previous.take()) {
            let _ = guard.insert(previous);
        }
    }
}
