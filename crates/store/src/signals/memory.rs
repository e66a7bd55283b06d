//! Signals in memory: the same contract as the databases, one map under one lock (so a batch is
//! written whole, as a transaction would).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::{Signal, SignalMethod, Symbol};

use super::{LatestLabel, SignalStore, bounded};
use crate::{MemoryStore, StoreError};

/// The memory store's signals, keyed as the table is: method, symbol, day.
#[derive(Debug, Default)]
pub(crate) struct MemorySignals(Mutex<BTreeMap<(SignalMethod, Symbol, NaiveDate), Signal>>);

impl MemorySignals {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<(SignalMethod, Symbol, NaiveDate), Signal>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The signals of `symbol` under `method`, oldest first.
fn of_symbol<'a>(
    signals: &'a BTreeMap<(SignalMethod, Symbol, NaiveDate), Signal>,
    method: &SignalMethod,
    symbol: Symbol,
) -> impl DoubleEndedIterator<Item = &'a Signal> {
    let start = (method.clone(), symbol, NaiveDate::MIN);
    let end = (method.clone(), symbol, NaiveDate::MAX);
    signals.range(start..=end).map(|(_, signal)| signal)
}

#[async_trait]
impl SignalStore for MemoryStore {
    async fn upsert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError> {
        let mut signals = self.signals.lock();
        for signal in batch {
            let key = (signal.method.clone(), signal.symbol, signal.day);
            signals.insert(key, signal.clone());
        }
        Ok(batch.len() as u64)
    }

    async fn insert_signals(&self, batch: &[Signal]) -> Result<u64, StoreError> {
        let mut signals = self.signals.lock();
        let mut inserted = 0;
        for signal in batch {
            let key = (signal.method.clone(), signal.symbol, signal.day);
            if let std::collections::btree_map::Entry::Vacant(entry) = signals.entry(key) {
                entry.insert(signal.clone());
                inserted += 1;
            }
        }
        Ok(inserted)
    }

    async fn signals(
        &self,
        symbol: Symbol,
        method: &SignalMethod,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<Signal>, StoreError> {
        let limit = usize::try_from(bounded(limit)).unwrap_or(usize::MAX);
        Ok(of_symbol(&self.signals.lock(), method, symbol)
            .filter(|signal| (from..=to).contains(&signal.day))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn latest_signal(
        &self,
        symbol: Symbol,
        method: &SignalMethod,
    ) -> Result<Option<Signal>, StoreError> {
        Ok(of_symbol(&self.signals.lock(), method, symbol)
            .next_back()
            .cloned())
    }

    async fn latest_labels(&self, method: &SignalMethod) -> Result<Vec<LatestLabel>, StoreError> {
        // Keys sort by symbol then day: the last signal seen of each symbol is its latest.
        let mut latest: BTreeMap<Symbol, LatestLabel> = BTreeMap::new();
        for ((stored_method, symbol, day), signal) in self.signals.lock().iter() {
            if stored_method == method {
                latest.insert(
                    *symbol,
                    LatestLabel {
                        symbol: *symbol,
                        day: *day,
                        label: signal.label,
                        score: signal.score,
                    },
                );
            }
        }
        Ok(latest.into_values().collect())
    }
}
