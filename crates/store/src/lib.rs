//! Storage: where fetched bars live between requests and across restarts.
//!
//! Callers hold an `Arc<dyn Store>`, or only the part they need ([`Bars`], [`JobQueue`], …), and
//! never see SQL. [`SqliteStore`] is the embedded default
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
//! The store is one trait per part, bundled as [`Store`]: [`Bars`] (daily bars and where they
//! came from), [`JobQueue`], [`ProviderUsage`], [`Accounts`], [`AlertStore`], [`Invites`],
//! [`OwnedLists`]. A caller that needs one part takes that part (the read path takes [`Bars`]
//! and [`ProviderUsage`], the archive [`Bars`]).
//!
//! Every store also counts calls to each upstream provider per UTC minute and day
//! ([`ProviderUsage`], a supertrait of [`Store`]), so quota accounting survives restarts and is
//! shared by replicas on one database, and reads a user's things a page at a time and creates
//! them within caps ([`OwnedLists`]).
//!
//! Each running process records a heartbeat ([`Instances`]), so any replica lists the
//! deployment's instances.
//!
//! Composite trading signals are stored per symbol, trading day and method ([`SignalStore`],
//! also a supertrait of [`Store`]): a change of method adds rows and never rewrites old ones.
//!
//! News articles are stored once per canonical URL with the symbols they concern, each source's
//! cursor, and sentiment scores written once per (article, scorer, model, prompt version)
//! ([`NewsStore`]), with full-text search over title and summary on each backend.

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
mod instances;
mod invites;
mod jobs;
mod memory;
mod migrations;
mod news;
mod owned;
mod postgres;
mod rows;
mod signals;
mod sqlite;
mod usage;

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;

pub use accounts::{
    Accounts, AuthToken, Channel, NewToken, NewUser, TokenKind, UnreadableTarget, User, UserUpdate,
    UserUpdated, WatchedSymbol,
};
pub use alerts::{
    AlertEvent, AlertStore, DeliveryAttempt, DeliveryOutcome, FinishedNotification, LastPrice,
    NewRule, Notification, NotificationStatus, RuleChange, RuleCheckpoint, RuleSetAside,
    RuleStatus, RulesFingerprint, SetAsideRecord, StoredRule, TriggerRecord,
};
pub use bars::Bars;
pub use database::{Database, DatabaseUrl, open, redact_url};
/// A channel's target is the domain's: the one type the API, the store and the senders share.
pub use domain::ChannelTarget;
pub use error::StoreError;
pub use instances::{Instance, Instances};
pub use invites::{Invite, InvitedSignup, Invites, NewInvite};
pub use jobs::{Job, JobCounts, JobFilter, JobKind, JobOutcome, JobQueue, JobStatus, NewJob};
pub use memory::MemoryStore;
pub use migrations::MigrationStatus;
pub use news::{
    ArticleId, ArticleScore, ArticleSentiment, InsertedArticle, MAX_NEWS_PER_READ,
    MAX_SEARCH_TERMS, NewArticle, NewsCursor, NewsKey, NewsPage, NewsQuery, NewsStore, ScoreKey,
    StoredArticle, StoredProviderSentiment, SymbolRelevance, search_terms,
};
pub use owned::{After, Capped, Owned, OwnedLists};
pub use postgres::PostgresStore;
pub use rows::StoredBar;
pub use signals::{LatestLabel, MAX_SIGNALS_PER_READ, SignalStore};
pub use sqlite::SqliteStore;
pub use usage::{ProviderPause, ProviderUsage, UsageCounts, minute_start, utc_day};

/// The whole store: every part ([`Bars`], [`Accounts`], [`AlertStore`], [`Invites`],
/// [`JobQueue`], [`NewsStore`], [`OwnedLists`], [`ProviderUsage`], [`SignalStore`],
/// [`Instances`]) plus the tracked list and health.
///
/// Holders of the whole store hand a part on by upcasting (`let bars: Arc<dyn Bars> = store;`),
/// so each user takes only the part it needs.
#[async_trait]
pub trait Store:
    Accounts
    + AlertStore
    + Bars
    + Invites
    + JobQueue
    + OwnedLists
    + ProviderUsage
    + SignalStore
    + NewsStore
    + Instances
    + Send
    + Sync
    + Debug
{
    /// The backend's name (`sqlite`, `postgres`), for logs and `/ready`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers (a trivial query), without touching any table's data.
    async fn ping(&self) -> Result<(), StoreError>;

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
