//! The PostgreSQL backend: a connection pool, migrations embedded from `migrations/postgres`.
//!
//! Same contract as SQLite: bars upserted on `(symbol, date)` rewriting only changed rows, the
//! fetch record written in the same transaction. Types are native: `date`, `timestamptz`
//! (microsecond precision), `bigint` prices at 1e-9.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Symbol};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{Store, StoreError, StoredBar, TrackedSymbol, bulk, migrations, rows};

/// Bars stored in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`) and applies
    /// pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect_unmigrated(url).await?;
        migrations::POSTGRES.run(&store.pool).await?;
        Ok(store)
    }

    /// Connects without touching the schema (for `stockd migrate`).
    pub(crate) async fn connect_unmigrated(url: &str) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            location: crate::redact_url(url),
            source,
        };
        let options: PgConnectOptions = url.parse().map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        Ok(Self { pool })
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError> {
        let counts = self.upsert_many(std::slice::from_ref(series)).await?;
        Ok(counts.into_iter().sum())
    }

    async fn upsert_many(&self, batch: &[Series]) -> Result<Vec<u64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let counts = bulk::postgres(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError> {
        let rows = sqlx::query(
            "select date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, source, \
             fetched_at from bars where symbol = $1 order by date",
        )
        .bind(symbol.as_str())
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let stored = rows
            .iter()
            .map(|row| rows::stored_bar(row, symbol))
            .collect::<Result<Vec<_>, _>>()?;
        let last_fetch =
            sqlx::query("select source, fetched_at from symbol_fetches where symbol = $1")
                .bind(symbol.as_str())
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(rows::last_fetch)
                .transpose()?;
        Ok(rows::series(symbol, stored, last_fetch))
    }

    async fn stored_bars(
        &self,
        symbol: Symbol,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredBar>, StoreError> {
        sqlx::query(
            "select date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, source, \
             fetched_at from bars where symbol = $1 and date between $2 and $3 order by date",
        )
        .bind(symbol.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| rows::stored_bar(row, symbol))
        .collect()
    }

    async fn stored_symbols(&self) -> Result<Vec<Symbol>, StoreError> {
        sqlx::query("select distinct symbol from bars order by symbol")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::stored_symbol)
            .collect()
    }

    async fn track_symbol(
        &self,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(TrackedSymbol, bool), StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "insert into tracked_symbols (symbol, added_at) values ($1, $2) \
             on conflict (symbol) do nothing",
        )
        .bind(symbol.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query("select symbol, added_at from tracked_symbols where symbol = $1")
            .bind(symbol.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((rows::tracked_symbol(&row)?, inserted == 1))
    }

    async fn untrack_symbol(&self, symbol: Symbol) -> Result<bool, StoreError> {
        let deleted = sqlx::query("delete from tracked_symbols where symbol = $1")
            .bind(symbol.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, StoreError> {
        // The operator's list plus every watched symbol (see `Store::tracked_symbols`).
        let rows = sqlx::query(
            "select symbol, min(added_at) as added_at from (\
             select symbol, added_at from tracked_symbols \
             union all select symbol, added_at from watchlist) as tracked \
             group by symbol order by symbol",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::tracked_symbol).collect()
    }
}
