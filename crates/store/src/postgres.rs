//! The PostgreSQL backend: a connection pool, migrations embedded from `migrations/postgres`.
//!
//! Same contract as SQLite: bars upserted on `(symbol, date)` rewriting only changed rows, the
//! fetch record written in the same transaction. Types are native: `date`, `timestamptz`
//! (microsecond precision), `bigint` prices at 1e-9.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{StoreError, migrations};

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

    /// A transaction; the statements in it lock the rows they pick ([`Self::SKIP_LOCKED`]).
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Appended to a `select` that picks rows to write: each is locked, and rows another
    /// transaction holds are passed over, so replicas take different rows without waiting.
    pub(crate) const SKIP_LOCKED: &'static str = " for update skip locked";
}
