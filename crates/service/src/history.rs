//! Stored daily history as a whole: loading a batch of bars from outside the providers
//! (`stockd import`) with the provenance `import`, and reading what is stored back symbol by
//! symbol and year by year (`stockd archive`). The interfaces read and decode their files and
//! render the counts; how a batch is split into transactions and how many are written at once
//! on each backend is decided here.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::Utc;
use domain::{Bar, Series, Symbol};
use store::{Bars, StoreError, StoredBar};
use tokio::task::{JoinError, JoinSet};

use crate::{Service, ServiceError};

/// The provenance recorded for imported bars: what `source` says when they are served.
pub const IMPORT_SOURCE: &str = "import";

/// Bars per transaction: a few dozen symbols of long history, so a million rows take a few
/// dozen commits and statements instead of one or more per symbol (the difference is large on
/// PostgreSQL, where every round trip of a big request can wait for a delayed ACK).
const BARS_PER_BATCH: usize = 50_000;

/// Batches written at the same time on PostgreSQL, whose server works on each in its own
/// process while the next is encoded and sent. SQLite has one writer at a time: there, a second
/// transaction would only wait for the first's lock.
const POSTGRES_WRITERS: usize = 3;

/// What an import did to one symbol's stored history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedSymbol {
    pub symbol: Symbol,
    /// Bars given for the symbol.
    pub rows: usize,
    /// Of those, bars the store did not have as they are (inserted or changed).
    pub changed: u64,
}

impl Service {
    /// Upserts every symbol's `bars` (checked bars, one per date) as imported history, with
    /// provenance [`IMPORT_SOURCE`] and now as their fetch time, and returns what each symbol
    /// got, in symbol order.
    ///
    /// Bars go in batches of whole symbols, each batch one transaction, so re-importing the
    /// same bars changes nothing and an interrupted import leaves whole symbols, never halves.
    pub async fn import_bars(
        &self,
        bars: BTreeMap<Symbol, Vec<Bar>>,
    ) -> Result<Vec<ImportedSymbol>, ServiceError> {
        let writers = if self.store().backend() == "postgres" {
            POSTGRES_WRITERS
        } else {
            1
        };
        let fetched_at = Utc::now();
        let mut batches = vec![Vec::new()];
        let mut batch_bars = 0;
        for (symbol, symbol_bars) in bars {
            if batch_bars >= BARS_PER_BATCH {
                batches.push(Vec::new());
                batch_bars = 0;
            }
            batch_bars += symbol_bars.len();
            if let Some(batch) = batches.last_mut() {
                batch.push(Series::new(symbol, symbol_bars, IMPORT_SOURCE, fetched_at));
            }
        }
        let mut written: Vec<Vec<ImportedSymbol>> = vec![Vec::new(); batches.len()];
        // Dropping the set on an error aborts the batches still running; each rolls back whole.
        let mut tasks = JoinSet::new();
        let mut collect = |joined: Option<Result<Result<_, StoreError>, JoinError>>| match joined {
            Some(Ok(Ok((index, imported)))) => {
                written[index] = imported;
                Ok(())
            }
            Some(Ok(Err(err))) => Err(ServiceError::Store(err)),
            Some(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Some(Err(_)) => Err(ServiceError::Internal("an import batch was cancelled")),
            None => Ok(()),
        };
        for (index, batch) in batches.into_iter().enumerate() {
            if tasks.len() >= writers {
                collect(tasks.join_next().await)?;
            }
            let store: Arc<dyn Bars> = self.0.store.clone();
            tasks.spawn(async move {
                let counts = store.upsert_many(&batch).await?;
                let imported: Vec<ImportedSymbol> = batch
                    .iter()
                    .zip(counts)
                    .map(|(series, changed)| ImportedSymbol {
                        symbol: series.symbol,
                        rows: series.bars().len(),
                        changed,
                    })
                    .collect();
                Ok((index, imported))
            });
        }
        while !tasks.is_empty() {
            collect(tasks.join_next().await)?;
        }
        Ok(written.into_iter().flatten().collect())
    }

    /// Every symbol with stored bars, in symbol order: fetched or imported, tracked or not.
    pub async fn stored_symbols(&self) -> Result<Vec<Symbol>, ServiceError> {
        Ok(self.store().stored_symbols().await?)
    }

    /// `symbol`'s stored bars dated in `years` (whole calendar years), oldest first, each with
    /// the provenance of the fetch or import that wrote it.
    pub async fn stored_years(
        &self,
        symbol: Symbol,
        years: RangeInclusive<i32>,
    ) -> Result<Vec<StoredBar>, ServiceError> {
        Ok(self.store().stored_years(symbol, years).await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{Days, NaiveDate};
    use market::{Market, MarketConfig};
    use store::{MemoryStore, Store};

    use super::*;

    fn service(store: Arc<dyn Store>) -> Service {
        let market = Arc::new(Market::with_providers(
            Vec::new(),
            Vec::new(),
            store.clone(),
            MarketConfig::default(),
        ));
        Service::new(store, market, crate::Settings::default())
    }

    /// `count` daily bars from 1950-01-02 on, every close `close`.
    fn bars(count: u64, close: &str) -> Vec<Bar> {
        let first = NaiveDate::from_ymd_opt(1950, 1, 2).unwrap();
        let close = close.parse().unwrap();
        (0..count)
            .map(|day| {
                let date = first.checked_add_days(Days::new(day)).unwrap();
                Bar::new_checked(date, close, close, close, close, 1, None).unwrap()
            })
            .collect()
    }

    fn symbol(text: &str) -> Symbol {
        Symbol::parse(text).unwrap()
    }

    #[tokio::test]
    async fn imported_bars_are_stored_as_import_and_reimporting_them_changes_nothing() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let service = service(store.clone());
        let batch = BTreeMap::from([
            (symbol("MSFT"), bars(3, "10")),
            (symbol("IBM"), bars(2, "20")),
        ]);

        let first = service.import_bars(batch.clone()).await.unwrap();
        let counts: Vec<(String, usize, u64)> = first
            .iter()
            .map(|s| (s.symbol.to_string(), s.rows, s.changed))
            .collect();
        assert_eq!(
            counts,
            [("IBM".into(), 2, 2), ("MSFT".into(), 3, 3)],
            "in symbol order"
        );
        let stored = store.load_series(symbol("MSFT")).await.unwrap().unwrap();
        assert_eq!(
            (stored.source.as_str(), stored.bars().len()),
            (IMPORT_SOURCE, 3)
        );

        let again = service.import_bars(batch).await.unwrap();
        assert!(again.iter().all(|s| s.changed == 0), "{again:?}");
    }

    #[tokio::test]
    async fn an_import_larger_than_one_transaction_reports_every_symbol_in_order() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let service = service(store.clone());
        // 30,000 bars each: the third symbol starts a second batch.
        let batch: BTreeMap<Symbol, Vec<Bar>> = ["AAA", "BBB", "CCC"]
            .into_iter()
            .map(|text| (symbol(text), bars(30_000, "1")))
            .collect();

        let imported = service.import_bars(batch).await.unwrap();
        let symbols: Vec<String> = imported.iter().map(|s| s.symbol.to_string()).collect();
        assert_eq!(symbols, ["AAA", "BBB", "CCC"]);
        assert!(
            imported
                .iter()
                .all(|s| s.rows == 30_000 && s.changed == 30_000)
        );
        assert_eq!(
            service.stored_symbols().await.unwrap(),
            [symbol("AAA"), symbol("BBB"), symbol("CCC")]
        );
    }

    #[tokio::test]
    async fn stored_years_read_whole_years_with_each_bars_provenance() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let service = service(store);
        // 1950-01-02 .. 1951-01-06: the last six bars are in 1951.
        service
            .import_bars(BTreeMap::from([(symbol("IBM"), bars(370, "5"))]))
            .await
            .unwrap();

        let in_1951 = service
            .stored_years(symbol("IBM"), 1951..=1951)
            .await
            .unwrap();
        assert_eq!(in_1951.len(), 6);
        assert!(in_1951.iter().all(|b| b.source == IMPORT_SOURCE));
        let all = service
            .stored_years(symbol("IBM"), i32::MIN..=i32::MAX)
            .await
            .unwrap();
        assert_eq!(all.len(), 370);
    }
}
