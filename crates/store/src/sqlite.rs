//! The SQLite backend: one file in WAL mode, migrations embedded from `migrations/sqlite`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Symbol};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Store, StoreError, StoredBar, TrackedSymbol, bulk, migrations, rows};

/// Bars stored in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let store = Self::open_unmigrated(path).await?;
        migrations::SQLITE.run(&store.pool).await?;
        Ok(store)
    }

    /// Opens (creating if needed) the file without touching the schema (for `stockd migrate`).
    pub(crate) async fn open_unmigrated(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| StoreError::Open {
                location: path.display().to_string(),
                source: sqlx::Error::Io(err),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        Self::connect(options, path.display().to_string()).await
    }

    /// A private in-memory database, for tests and throwaway runs.
    pub async fn in_memory() -> Result<Self, StoreError> {
        let store = Self::in_memory_unmigrated().await?;
        migrations::SQLITE.run(&store.pool).await?;
        Ok(store)
    }

    pub(crate) async fn in_memory_unmigrated() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every connection to `:memory:` would be a different database.
        Self::connect_with(options, ":memory:".into(), 1).await
    }

    async fn connect(options: SqliteConnectOptions, location: String) -> Result<Self, StoreError> {
        Self::connect_with(options, location, 4).await
    }

    async fn connect_with(
        options: SqliteConnectOptions,
        location: String,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open { location, source })?;
        Ok(Self { pool })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
        let counts = bulk::sqlite(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError> {
        let rows = sqlx::query(
            "select date, open_e9, high_e9, low_e9, close_e9, volume, adj_close_e9, source, \
             fetched_at from bars where symbol = ? order by date",
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
            sqlx::query("select source, fetched_at from symbol_fetches where symbol = ?")
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
             fetched_at from bars where symbol = ? and date between ? and ? order by date",
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
            "insert into tracked_symbols (symbol, added_at) values (?, ?) \
             on conflict (symbol) do nothing",
        )
        .bind(symbol.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query("select symbol, added_at from tracked_symbols where symbol = ?")
            .bind(symbol.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((rows::tracked_symbol(&row)?, inserted == 1))
    }

    async fn untrack_symbol(&self, symbol: Symbol) -> Result<bool, StoreError> {
        let deleted = sqlx::query("delete from tracked_symbols where symbol = ?")
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
             union all select symbol, added_at from watchlist) \
             group by symbol order by symbol",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::tracked_symbol).collect()
    }
}
