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
//!
//! Every store also counts calls to each upstream provider per UTC minute and day
//! ([`ProviderUsage`], a supertrait of [`Store`]), so quota accounting survives restarts and is
//! shared by replicas on one database, and reads a user's things a page at a time and creates
//! them within caps ([`OwnedLists`]).
//!
//! Composite trading signals are stored per symbol, trading day and method ([`SignalStore`],
//! also a supertrait of [`Store`]): a change of method adds rows and never rewrites old ones.

#[macro_use]
mod text_enum;
#[macro_use]
#[doc(hidden)]
pub mod redact;

mod accounts;
mod alerts;
mod bars;
mod bulk;
mod database;
mod error;
mod invites;
mod jobs;
mod memory;
mod migrations;
mod owned;
mod postgres;
mod rows;
mod signals;
mod sqlite;
mod usage;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Symbol};

pub use accounts::{
    Accounts, AuthToken, Channel, NewToken, NewUser, TokenKind, UnreadableTarget, User, UserUpdate,
    UserUpdated, WatchedSymbol,
};
pub use alerts::{
    AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, LastPrice, NewRule, Notification,
    NotificationStatus, RuleChange, RuleCheckpoint, RuleSetAside, RuleStatus, RulesFingerprint,
    SetAsideRecord, StoredRule, TriggerRecord,
};
pub use database::{Database, DatabaseUrl, open, redact_url};
/// A channel's target is the domain's: the one type the API, the store and the senders share.
pub use domain::ChannelTarget;
pub use error::StoreError;
pub use invites::{Invite, InvitedSignup, Invites, NewInvite};
pub use jobs::{Job, JobCounts, JobFilter, JobKind, JobOutcome, JobQueue, JobStatus, NewJob};
pub use memory::MemoryStore;
pub use migrations::MigrationStatus;
pub use owned::{After, Capped, Owned, OwnedLists};
pub use postgres::PostgresStore;
pub use rows::StoredBar;
pub use signals::{LatestLabel, MAX_SIGNALS_PER_READ, SignalStore};
pub use sqlite::SqliteStore;
pub use usage::{ProviderPause, ProviderUsage, UsageCounts, minute_start, utc_day};

/// Persistent storage of daily bars.
#[async_trait]
pub trait Store:
    Accounts
    + AlertStore
    + Invites
    + JobQueue
    + OwnedLists
    + ProviderUsage
    + SignalStore
    + Send
    + Sync
    + Debug
{
    /// The backend's name (`sqlite`, `postgres`), for logs and `/ready`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers (a trivial query), without touching any table's data.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Upserts every bar of `series` on `(symbol, date)` and records the fetch (source and time)
    /// in the same transaction. Returns the number of bars inserted or changed.
    async fn upsert_series(&self, series: &Series) -> Result<u64, StoreError>;

    /// Upserts several series as [`Store::upsert_series`] does each, in one transaction (so a
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
    /// [`Store::load_series`] gives the whole series one provenance, which is right for serving
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

    /// Every symbol with stored bars, in symbol order: fetched or imported, tracked or not
    /// (what `stockd archive` archives by default).
    async fn stored_symbols(&self) -> Result<Vec<Symbol>, StoreError>;

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

    /// The tracked symbols, in symbol order: the operator's list and every symbol on a user's
    /// watchlist (each with the earliest `added_at`), so ingestion keeps a symbol fresh while
    /// anyone watches it. Untracking removes a symbol from the operator's list only.
    async fn tracked_symbols(&self) -> Result<Vec<TrackedSymbol>, StoreError>;
}

/// A symbol on the tracked list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedSymbol {
    pub symbol: Symbol,
    pub added_at: DateTime<Utc>,
}
