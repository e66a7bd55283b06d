//! Storage: where fetched bars live between requests and across restarts.
//!
//! Callers hold an `Arc<dyn Store>` and never see SQL. [`SqliteStore`] is the embedded default
//! (one WAL-mode file under the data dir); [`PostgresStore`] serves the same contract from a
//! PostgreSQL server; [`MemoryStore`] keeps it in memory for tests. [`open`] picks the backend
//! from a database URL.
//!
//! Each backend owns its versioned, reversible migrations, embedded in the binary and applied on
//! open; [`Database`] opens a database without migrating and applies, lists or reverts them (the
//! `stockd migrate` command).
//!
//! Writes are idempotent: bars are upserted on `(symbol, date)`, so a retried or repeated fetch
//! never doubles a row, and the last fetch per symbol is recorded with the bars in one
//! transaction, so a restart knows what is still fresh.

mod database;
mod error;
mod memory;
mod migrations;
mod postgres;
mod rows;
mod sqlite;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Series, Symbol};

pub use database::{Database, DatabaseUrl, open, redact_url};
pub use error::StoreError;
pub use memory::MemoryStore;
pub use migrations::MigrationStatus;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Persistent storage of daily bars.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    /// The backend's name (`sqlite`, `postgres`), for logs and `/ready`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers (a trivial query), without touching any table's data.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Upserts every bar of `series` on `(symbol, date)` and records the fetch (source and time)
    /// in the same transaction. Returns the number of bars inserted or changed.
    async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError>;

    /// The stored bars of `symbol` with the provenance of its last fetch; `None` when nothing is
    /// stored.
    async fn load_series(&self, symbol: Symbol) -> Result<Option<Series>, StoreError>;

    /// Adds `symbol` to the tracked list and returns its entry, with `true` when it was added
    /// now and `false` when it was tracked already (the first `added_at` is kept).
    async fn track_symbol(
        &self,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(TrackedSymbol, bool), StoreError>;

    /// Removes `symbol` from the tracked list; `false` when it was not tracked. Its stored bars
    /// stay.
    async fn untrack_symbol(&self, symbol: Symbol) -> Result<bool, StoreError>;

    /// The tracked symbols, in symbol order.
    async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, StoreError>;
}

/// A symbol on the tracked list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedSymbol {
    pub symbol: Symbol,
    pub added_at: DateTime<Utc>,
}
