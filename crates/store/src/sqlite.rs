//! The SQLite backend: one file in WAL mode, migrations embedded from `migrations/sqlite`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{StoreError, migrations};

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

    /// A transaction that holds SQLite's one write lock from its start (`begin immediate`), so
    /// what it reads cannot change before it writes.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("begin immediate").await?)
    }

    /// Nothing to add to a `select` that picks rows to write: [`SqliteStore::write_tx`] holds
    /// the whole database already.
    pub(crate) const SKIP_LOCKED: &'static str = "";
}
