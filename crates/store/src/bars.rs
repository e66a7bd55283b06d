//! Daily bars: the [`Bars`] part of the store, and its SQLite and PostgreSQL implementation
//! (with the tracked list and health of [`Store`]): one set of statements for both
//! (PostgreSQL's `$1` parameters, which sqlx's SQLite driver binds by number), stamped out per
//! store type by [`sql_store`]. Only the bulk write differs ([`crate::bulk`]): how thousands of
//! bars travel is what each driver does fast in its own way.

use std::fmt::Debug;
use std::ops::RangeInclusive;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Symbol};
use sqlx::AssertSqlSafe;

use crate::rows::{self, BAR_COLUMNS, BarRow, LastFetch, SymbolAdded};
use crate::{PostgresStore, SqliteStore, Store, StoreError, StoredBar, TrackedSymbol, bulk};

/// Stored daily bars, each with the provenance of the fetch or import that wrote it: what the
/// read path serves and refreshes, `stockd import` loads and the archive reads back.
#[async_trait]
pub trait Bars: Send + Sync + Debug {
    /// Upserts every bar of `series` on `(symbol, date)` and records the fetch (source and time)
    /// in the same transaction. Returns the number of bars inserted or changed.
    async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError>;

    /// Upserts several series as [`Bars::upsert_series`] does each, in one transaction (so a
    /// failure leaves whole series, never part of one), and returns the changed count of each,
    /// in order. Bulk loads (`stockd import`) use it: the SQL backends write a batch with far
    /// fewer statements and commits than one call per series. A symbol may appear more than
    /// once; later series win, as in successive calls.
    async fn upsert_many(&self, batch: &[Series]) -> Result<Vec<u64>, StoreError> {
        let mut counts = Vec::with_capacity(batch.len());
        for series in batch {
            counts.push(self.upsert_series(series).await?);
        }
        Ok(counts)
    }

    /// The stored bars of `symbol` with the provenance of its last fetch; `None` when nothing is
    /// stored.
    async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError>;

    /// The stored bars of `symbol` dated `from..=to`, oldest first, each with the provenance of
    /// the fetch (or import) that wrote it; empty when there are none. The archive reads this:
    /// [`Bars::load_series`] gives the whole series one provenance, which is right for serving
    /// and wrong for a record of where each bar came from.
    ///
    /// The default serves it from `load_series` (every bar with the series' provenance), which is
    /// exact for a backend that keeps one provenance per series, like [`MemoryStore`].
    async fn stored_bars(
        &self,
        symbol: Symbol,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredBar>, StoreError> {
        Ok(self
            .load_series(symbol)
            .await?
            .map(|series| {
                series
                    .between(Some(from), Some(to))
                    .iter()
                    .map(|bar| StoredBar {
                        bar: *bar,
                        source: series.source.clone(),
                        fetched_at: series.fetched_at,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The stored bars of `symbol` dated in `years` (whole calendar years), as
    /// [`Bars::stored_bars`] gives them; years outside the four-digit dates SQL text and chrono
    /// agree on are clamped, since nothing real lies outside them.
    async fn stored_years(
        &self,
        symbol: Symbol,
        years: RangeInclusive<i32>,
    ) -> Result<Vec<StoredBar>, StoreError> {
        let first = (*years.start()).max(1);
        let last = (*years.end()).min(9999);
        match (
            NaiveDate::from_ymd_opt(first, 1, 1),
            NaiveDate::from_ymd_opt(last, 12, 31),
        ) {
            (Some(from), Some(to)) if from <= to => self.stored_bars(symbol, from, to).await,
            _ => Ok(Vec::new()),
        }
    }

    /// Every symbol with stored bars, in symbol order: fetched or imported, tracked or not
    /// (what `stockd archive` archives by default).
    async fn stored_symbols(&self) -> Result<Vec<Symbol>, StoreError>;
}

/// `impl Bars` and `impl Store` for `$store` over its `pool()`, named `$backend`, writing
/// batches with `$bulk`.
macro_rules! sql_store {
    ($store:ty, $backend:literal, $bulk:path) => {
        #[async_trait]
        impl Bars for $store {
            async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError> {
                let counts = self.upsert_many(std::slice::from_ref(series)).await?;
                Ok(counts.into_iter().sum())
            }

            async fn upsert_many(&self, batch: &[Series]) -> Result<Vec<u64>, StoreError> {
                let mut tx = self.pool().begin().await?;
                let counts = $bulk(&mut tx, batch).await?;
                tx.commit().await?;
                Ok(counts)
            }

            async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError> {
                let rows: Vec<BarRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {BAR_COLUMNS} from bars where symbol = $1 order by date"
                )))
                .bind(symbol.as_str())
                .fetch_all(self.pool())
                .await?;
                let stored = rows::stored_bars(rows, symbol)?;
                if stored.is_empty() {
                    return Ok(None);
                }
                let last_fetch: Option<LastFetch> = sqlx::query_as(
                    "select source, fetched_at from symbol_fetches where symbol = $1",
                )
                .bind(symbol.as_str())
                .fetch_optional(self.pool())
                .await?;
                Ok(rows::series(symbol, stored, last_fetch))
            }

            async fn stored_bars(
                &self,
                symbol: Symbol,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<StoredBar>, StoreError> {
                let rows: Vec<BarRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {BAR_COLUMNS} from bars where symbol = $1 \
                     and date between $2 and $3 order by date"
                )))
                .bind(symbol.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(self.pool())
                .await?;
                rows::stored_bars(rows, symbol)
            }

            async fn stored_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
                let symbols: Vec<String> =
                    sqlx::query_scalar("select distinct symbol from bars order by symbol")
                        .fetch_all(self.pool())
                        .await?;
                symbols
                    .iter()
                    .map(|text| rows::stored_symbol(text))
                    .collect()
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("select 1").execute(self.pool()).await?;
                Ok(())
            }

            async fn track_symbol(
                &self,
                symbol: Symbol,
                at: DateTime<Utc>,
            ) -> Result<(TrackedSymbol, bool), StoreError> {
                let mut tx = self.pool().begin().await?;
                let inserted = sqlx::query(
                    "insert into tracked_symbols (symbol, added_at) values ($1, $2) \
                     on conflict (symbol) do nothing",
                )
                .bind(symbol.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let row: SymbolAdded = sqlx::query_as(
                    "select symbol, added_at from tracked_symbols where symbol = $1",
                )
                .bind(symbol.as_str())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((row.try_into()?, inserted == 1))
            }

            async fn untrack_symbol(&self, symbol: Symbol) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from tracked_symbols where symbol = $1")
                    .bind(symbol.as_str())
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, StoreError> {
                // The operator's list plus every watched symbol (see `Store::tracked_symbols`).
                let rows: Vec<SymbolAdded> = sqlx::query_as(
                    "select symbol, min(added_at) as added_at from (\
                     select symbol, added_at from tracked_symbols \
                     union all select symbol, added_at from watchlist) as tracked \
                     group by symbol order by symbol",
                )
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

sql_store!(SqliteStore, "sqlite", bulk::sqlite);
sql_store!(PostgresStore, "postgres", bulk::postgres);
