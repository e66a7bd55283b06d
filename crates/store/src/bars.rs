//! Bars and the tracked list in SQLite and PostgreSQL: one set of statements for both
//! (PostgreSQL's `$1` parameters, which sqlx's SQLite driver binds by number), stamped out per
//! store type by [`sql_store`]. Only the bulk write differs ([`crate::bulk`]): how thousands of
//! bars travel is what each driver does fast in its own way.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Symbol};
use sqlx::AssertSqlSafe;

use crate::rows::{self, BAR_COLUMNS, BarRow, LastFetch, SymbolAdded};
use crate::{PostgresStore, SqliteStore, Store, StoreError, StoredBar, TrackedSymbol, bulk};

/// `impl Store for $store` over its `pool()`, named `$backend`, writing batches with `$bulk`.
macro_rules! sql_store {
    ($store:ty, $backend:literal, $bulk:path) => {
        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("select 1").execute(self.pool()).await?;
                Ok(())
            }

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
