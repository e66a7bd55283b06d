//! What a user owns, a page at a time and within caps.
//!
//! Lists that grow with use (rules, events, notifications, channels, API tokens, the watchlist)
//! are read by keyset: each page starts after the sort key of the last row of the one before
//! ([`After`]), so a row inserted meanwhile never shifts a page (no offsets) and a page costs
//! an index range scan however deep it is. Rules, channels and tokens are oldest first
//! (`created_at`, then id); events and notifications newest first; the watchlist by symbol.
//!
//! Creates that a cap bounds count and insert in one transaction that holds the owner: on
//! PostgreSQL the user's row is locked (`for no key update`, so foreign-key checks of other
//! inserts are not blocked, but a second capped create for the same user waits), on SQLite
//! the transaction takes the write lock before it reads (`begin immediate`). Concurrent creates
//! therefore never pass a cap; creates for different users do not wait for each other on
//! PostgreSQL.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;

use crate::{AlertEvent, AuthToken, Channel, ChannelTarget, NewRule, NewToken, Notification};
use crate::{StoreError, StoredRule, WatchedSymbol};

pub(crate) use memory::OwnerWrites;

/// The sort key of the last row of a page: the next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After<Id> {
    pub created_at: DateTime<Utc>,
    pub id: Id,
}

/// A create a cap bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capped<T> {
    Created(T),
    /// The owner has `cap` already; nothing was written.
    Full,
}

impl<T> Capped<T> {
    /// What a create without a cap made: such a create is never refused, and the SQL stores'
    /// plain creates ([`crate::Accounts::create_token`] and the like) are these.
    pub(crate) fn uncapped(self) -> Result<T, StoreError> {
        match self {
            Self::Created(created) => Ok(created),
            Self::Full => Err(StoreError::Corrupt(
                "a create without a cap was refused".into(),
            )),
        }
    }
}

/// What a user may own a limited number of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    Rules,
    Channels,
    WatchedSymbols,
    /// Personal API tokens (sessions expire on their own and are not counted).
    ApiTokens,
}

/// Paginated lists and capped creates of a user's things; every query takes the owner's id.
#[async_trait]
pub trait OwnedLists: Send + Sync {
    /// How many of `what` the user has.
    async fn count_owned(&self, user_id: &str, what: Owned) -> Result<u64, StoreError>;

    /// The user's rules after `after`, oldest first, at most `limit`.
    async fn rules_page(
        &self,
        user_id: &str,
        after: Option<&After<i64>>,
        limit: u32,
    ) -> Result<Vec<StoredRule>, StoreError>;

    /// The user's events older than `before`, newest first, at most `limit`.
    async fn alert_events_page(
        &self,
        user_id: &str,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<AlertEvent>, StoreError>;

    /// The user's notifications older than `before`, newest first, at most `limit`.
    async fn notifications_page(
        &self,
        user_id: &str,
        before: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    /// The user's channels after `after`, oldest first, at most `limit`.
    async fn channels_page(
        &self,
        user_id: &str,
        after: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<Channel>, StoreError>;

    /// The user's API tokens after `after`, oldest first, at most `limit`.
    async fn api_tokens_page(
        &self,
        user_id: &str,
        after: Option<&After<String>>,
        limit: u32,
    ) -> Result<Vec<AuthToken>, StoreError>;

    /// The user's watched symbols after `after`, in symbol order, at most `limit`.
    async fn watchlist_page(
        &self,
        user_id: &str,
        after: Option<Symbol>,
        limit: u32,
    ) -> Result<Vec<WatchedSymbol>, StoreError>;

    /// The user's entry for `symbol`, if they watch it.
    async fn watched_symbol(
        &self,
        user_id: &str,
        symbol: Symbol,
    ) -> Result<Option<WatchedSymbol>, StoreError>;

    /// Stores a rule unless the owner has `cap` rules (`None`: no cap).
    async fn create_rule_within(
        &self,
        new: &NewRule,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<StoredRule>, StoreError>;

    /// Stores a channel unless the user has `cap` channels.
    async fn create_channel_within(
        &self,
        user_id: &str,
        target: &ChannelTarget,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<Channel>, StoreError>;

    /// Stores an API token hash unless the user has `cap` API tokens.
    async fn create_token_within(
        &self,
        new: &NewToken,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<AuthToken>, StoreError>;

    /// Watches `symbol` unless the user watches `cap` symbols: `(entry, true)` when added now,
    /// `(entry, false)` when it was on the list already (never refused, whatever the cap).
    async fn watch_within(
        &self,
        user_id: &str,
        symbol: Symbol,
        at: DateTime<Utc>,
        cap: Option<u32>,
    ) -> Result<Capped<(WatchedSymbol, bool)>, StoreError>;
}

/// Whether `count` things leave room for one more under `cap`.
fn has_room(count: i64, cap: Option<u32>) -> bool {
    cap.is_none_or(|cap| count < i64::from(cap))
}
