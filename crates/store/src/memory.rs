//! An in-memory store: the same contract as the databases, for tests that run on a paused
//! clock (where a database driver's own timers would misfire) and for throwaway runs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Bar, Series, Symbol};

use crate::{Bars, Store, StoreError, TrackedSymbol};

/// Bars kept in a map; lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStore {
    series: Mutex<HashMap<Symbol, Series>>,
    tracked: Mutex<std::collections::BTreeMap<Symbol, DateTime<Utc>>>,
    pub(crate) jobs: crate::jobs::MemoryJobs,
    pub(crate) alerts: crate::alerts::MemoryAlerts,
    pub(crate) usage: crate::usage::MemoryUsage,
    pub(crate) accounts: crate::accounts::MemoryAccounts,
    pub(crate) owner_writes: crate::owned::OwnerWrites,
    pub(crate) invites: crate::invites::MemoryInvites,
    pub(crate) signals: crate::signals::MemorySignals,
    pub(crate) news: crate::news::MemoryNews,
    pub(crate) instances: crate::instances::MemoryInstances,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Symbol, Series>> {
        self.series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Bars for MemoryStore {
    async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError> {
        let mut map = self.lock();
        let (mut merged, changed): (Vec<Bar>, u64) = match map.get(&series.symbol) {
            Some(existing) => {
                let changed = series
                    .bars()
                    .iter()
                    .filter(|bar| {
                        existing
                            .bars()
                            .binary_search_by_key(&bar.date, |b| b.date)
                            .map_or(true, |i| existing.bars()[i] != **bar)
                    })
                    .count() as u64;
                (existing.bars().to_vec(), changed)
            }
            None => (Vec::new(), series.bars().len() as u64),
        };
        // Series::new keeps the last bar of each date, so appending the new ones upserts.
        merged.extend_from_slice(series.bars());
        let stored = Series::new(
            series.symbol,
            merged,
            series.source.clone(),
            series.fetched_at,
        );
        map.insert(series.symbol, stored);
        Ok(changed)
    }

    async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError> {
        Ok(self.lock().get(&symbol).cloned())
    }

    async fn stored_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
        let mut symbols: Vec<Symbol> = self
            .lock()
            .iter()
            .filter(|(_, series)| !series.is_empty())
            .map(|(symbol, _)| *symbol)
            .collect();
        symbols.sort();
        Ok(symbols)
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn track_symbol(
        &self,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(TrackedSymbol, bool), StoreError> {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        let added = !tracked.contains_key(&symbol);
        let added_at = *tracked.entry(symbol).or_insert(at);
        Ok((TrackedSymbol { symbol, added_at }, added))
    }

    async fn untrack_symbol(&self, symbol: Symbol) -> Result<bool, StoreError> {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        Ok(tracked.remove(&symbol).is_some())
    }

    async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, StoreError> {
        // The operator's list plus every watched symbol (see `Store::tracked_symbols`).
        let mut tracked = self
            .tracked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (symbol, at) in self.accounts.watched_symbols() {
            tracked
                .entry(symbol)
                .and_modify(|first| *first = (*first).min(at))
                .or_insert(at);
        }
        Ok(tracked
            .iter()
            .map(|(symbol, added_at)| TrackedSymbol {
                symbol: *symbol,
                added_at: *added_at,
            })
            .collect())
    }
}
