//! [`OwnedLists`] in SQLite and PostgreSQL: one set of statements for both (PostgreSQL's `$1`
//! parameters, which sqlx's SQLite driver binds by number), stamped out per store type by
//! [`sql_owned_lists`]. The only difference is how a capped create holds its owner
//! ([`SqliteStore::owner_tx`], [`PostgresStore::owner_tx`]). Keyset comparisons are row values
//! (`(created_at, id) > ($2, $3)`), which both databases compare column by column; SQLite's
//! timestamps are RFC 3339 text of one format, which sorts as the times do.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use sqlx::AssertSqlSafe;

use super::{After, Capped, Owned, OwnedLists, has_room};
use crate::accounts::{
    CHANNEL_COLUMNS, TOKEN_COLUMNS, channel, new_id, target_columns, token, watched,
};
use crate::alerts::{
    EVENT_COLUMNS, NOTIFICATION_COLUMNS, RULE_COLUMNS, event, json_text, notification, rule,
};
use crate::{
    AlertEvent, AuthToken, Channel, ChannelTarget, NewRule, NewToken, Notification, PostgresStore,
    SqliteStore, StoreError, StoredRule, TokenKind, WatchedSymbol,
};

impl SqliteStore {
    /// A transaction that holds SQLite's one write lock from its start, so what it counts
    /// cannot change before it writes.
    async fn owner_tx(
        &self,
        _user_id: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.write_tx().await
    }
}

impl PostgresStore {
    /// A transaction holding the user's row: capped creates of one user take turns, other
    /// users' go on.
    async fn owner_tx(
        &self,
        user_id: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("select 1 from users where id = $1 for no key update")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// The statement counting one kind of thing a user owns (`$1`: the user).
fn count_statement(what: Owned) -> &'static str {
    match what {
        Owned::Rules => "select count(*) from alert_rules where user_id = $1",
        Owned::Channels => "select count(*) from channels where user_id = $1",
        Owned::WatchedSymbols => "select count(*) from watchlist where user_id = $1",
        Owned::ApiTokens => "select count(*) from auth_tokens where user_id = $1 and kind = 'api'",
    }
}

/// Which way a keyset list reads.
#[derive(Clone, Copy)]
enum Order {
    /// `created_at`, then id, ascending: a page starts after the last row of the one before.
    OldestFirst,
    /// `created_at`, then id, descending: a page starts before the last row of the one before.
    NewestFirst,
}

/// A page of `select` (whose `where` binds the owner as `$1`) after `$2, $3` (the sort key of
/// the previous page's last row, or nulls for the first page), at most `$4` rows.
fn keyset_statement(select: &str, order: Order) -> String {
    let (after, direction) = match order {
        Order::OldestFirst => (">", ""),
        Order::NewestFirst => ("<", " desc"),
    };
    format!(
        "{select} and ($2 is null or (created_at, id) {after} ($2, $3)) \
         order by created_at{direction}, id{direction} limit $4"
    )
}

/// `impl OwnedLists for $store` over its `pool()`, `$db` being its database.
macro_rules! sql_owned_lists {
    ($store:ty, $db:ty) => {
        impl $store {
            /// One page of a list read by `(created_at, id)` ([`keyset_statement`]).
            async fn keyset_page<'a, T, Id>(
                &self,
                select: String,
                order: Order,
                user_id: &'a str,
                after: Option<(DateTime<Utc>, Id)>,
                limit: u32,
                read: fn(&<$db as sqlx::Database>::Row) -> Result<T, StoreError>,
            ) -> Result<Vec<T>, StoreError>
            where
                Id: 'a + Send + sqlx::Encode<'a, $db> + sqlx::Type<$db>,
            {
                let (at, id) = after.unzip();
                sqlx::query(AssertSqlSafe(keyset_statement(&select, order)))
                    .bind(user_id)
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await?
                    .iter()
                    .map(read)
                    .collect()
            }
        }

        #[async_trait]
        impl OwnedLists for $store {
            async fn count_owned(&self, user_id: &str, what: Owned) -> Result<u64, StoreError> {
                let count: i64 = sqlx::query_scalar(count_statement(what))
                    .bind(user_id)
                    .fetch_one(self.pool())
                    .await?;
                Ok(u64::try_from(count).unwrap_or(0))
            }

            async fn rules_page(
                &self,
                user_id: &str,
                after: Option<&After<i64>>,
                limit: u32,
            ) -> Result<Vec<StoredRule>, StoreError> {
                let select = format!("select {RULE_COLUMNS} from alert_rules where user_id = $1");
                let after = after.map(|a| (a.created_at, a.id));
                self.keyset_page(select, Order::OldestFirst, user_id, after, limit, |row| rule(row))
                    .await
            }

            async fn alert_events_page(
                &self,
                user_id: &str,
                before: Option<&After<String>>,
                limit: u32,
            ) -> Result<Vec<AlertEvent>, StoreError> {
                let select = format!("select {EVENT_COLUMNS} from alert_events where user_id = $1");
                let before = before.map(|b| (b.created_at, b.id.as_str()));
                self.keyset_page(select, Order::NewestFirst, user_id, before, limit, |row| event(row))
                    .await
            }

            async fn notifications_page(
                &self,
                user_id: &str,
                before: Option<&After<String>>,
                limit: u32,
            ) -> Result<Vec<Notification>, StoreError> {
                let select =
                    format!("select {NOTIFICATION_COLUMNS} from notifications where user_id = $1");
                let before = before.map(|b| (b.created_at, b.id.as_str()));
                self.keyset_page(select, Order::NewestFirst, user_id, before, limit, |row| {
                    notification(row)
                })
                .await
            }

            async fn channels_page(
                &self,
                user_id: &str,
                after: Option<&After<String>>,
                limit: u32,
            ) -> Result<Vec<Channel>, StoreError> {
                let select = format!("select {CHANNEL_COLUMNS} from channels where user_id = $1");
                let after = after.map(|a| (a.created_at, a.id.as_str()));
                self.keyset_page(select, Order::OldestFirst, user_id, after, limit, |row| {
                    channel(row)
                })
                .await
            }

            async fn api_tokens_page(
                &self,
                user_id: &str,
                after: Option<&After<String>>,
                limit: u32,
            ) -> Result<Vec<AuthToken>, StoreError> {
                let select = format!(
                    "select {TOKEN_COLUMNS} from auth_tokens where user_id = $1 and kind = 'api'"
                );
                let after = after.map(|a| (a.created_at, a.id.as_str()));
                self.keyset_page(select, Order::OldestFirst, user_id, after, limit, |row| token(row))
                    .await
            }

            async fn watchlist_page(
                &self,
                user_id: &str,
                after: Option<Symbol>,
                limit: u32,
            ) -> Result<Vec<WatchedSymbol>, StoreError> {
                sqlx::query(
                    "select symbol, added_at from watchlist where user_id = $1 \
                     and ($2 is null or symbol > $2) order by symbol limit $3",
                )
                .bind(user_id)
                .bind(after.as_ref().map(Symbol::as_str))
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(watched)
                .collect()
            }

            async fn watched_symbol(
                &self,
                user_id: &str,
                symbol: Symbol,
            ) -> Result<Option<WatchedSymbol>, StoreError> {
                sqlx::query(
                    "select symbol, added_at from watchlist where user_id = $1 and symbol = $2",
                )
                .bind(user_id)
                .bind(symbol.as_str())
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(watched)
                .transpose()
            }

            async fn create_rule_within(
                &self,
                new: &NewRule,
                at: DateTime<Utc>,
                cap: Option<u32>,
            ) -> Result<Capped<StoredRule>, StoreError> {
                let mut tx = self.owner_tx(&new.user_id).await?;
                let count: i64 = sqlx::query_scalar(count_statement(Owned::Rules))
                    .bind(&new.user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if !has_room(count, cap) {
                    return Ok(Capped::Full);
                }
                let id: i64 = sqlx::query_scalar(
                    "insert into alert_rules (user_id, symbol, definition, state, status, \
                     created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7) returning id",
                )
                .bind(&new.user_id)
                .bind(new.symbol.as_str())
                .bind(json_text(&new.definition))
                .bind(json_text(&new.state))
                .bind(new.status.as_str())
                .bind(at)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Capped::Created(new.stored(id, at)))
            }

            async fn create_channel_within(
                &self,
                user_id: &str,
                target: &ChannelTarget,
                at: DateTime<Utc>,
                cap: Option<u32>,
            ) -> Result<Capped<Channel>, StoreError> {
                let mut tx = self.owner_tx(user_id).await?;
                let count: i64 = sqlx::query_scalar(count_statement(Owned::Channels))
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if !has_room(count, cap) {
                    return Ok(Capped::Full);
                }
                let id = new_id();
                let (kind, text, secret, format) = target_columns(target);
                sqlx::query(
                    "insert into channels (id, user_id, kind, target, secret, format, created_at) \
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(user_id)
                .bind(kind)
                .bind(text)
                .bind(secret)
                .bind(format)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Capped::Created(Channel {
                    id,
                    user_id: user_id.to_owned(),
                    target: Ok(target.clone()),
                    created_at: at,
                }))
            }

            async fn create_token_within(
                &self,
                new: &NewToken,
                at: DateTime<Utc>,
                cap: Option<u32>,
            ) -> Result<Capped<AuthToken>, StoreError> {
                let mut tx = self.owner_tx(&new.user_id).await?;
                if new.kind == TokenKind::Api {
                    let count: i64 = sqlx::query_scalar(count_statement(Owned::ApiTokens))
                        .bind(&new.user_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if !has_room(count, cap) {
                        return Ok(Capped::Full);
                    }
                }
                let id = new_id();
                sqlx::query(
                    "insert into auth_tokens (id, user_id, kind, name, token_hash, created_at, \
                     expires_at) values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(&new.user_id)
                .bind(new.kind.as_str())
                .bind(&new.name)
                .bind(&new.token_hash)
                .bind(at)
                .bind(new.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Capped::Created(new.stored(id, at)))
            }

            async fn watch_within(
                &self,
                user_id: &str,
                symbol: Symbol,
                at: DateTime<Utc>,
                cap: Option<u32>,
            ) -> Result<Capped<(WatchedSymbol, bool)>, StoreError> {
                let mut tx = self.owner_tx(user_id).await?;
                let select = "select symbol, added_at from watchlist where user_id = $1 and symbol = $2";
                let existing = sqlx::query(select)
                    .bind(user_id)
                    .bind(symbol.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = existing {
                    return Ok(Capped::Created((watched(&row)?, false)));
                }
                let count: i64 = sqlx::query_scalar(count_statement(Owned::WatchedSymbols))
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if !has_room(count, cap) {
                    return Ok(Capped::Full);
                }
                sqlx::query(
                    "insert into watchlist (user_id, symbol, added_at) values ($1, $2, $3) \
                     on conflict (user_id, symbol) do nothing",
                )
                .bind(user_id)
                .bind(symbol.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query(select)
                    .bind(user_id)
                    .bind(symbol.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Capped::Created((watched(&row)?, true)))
            }
        }
    };
}

sql_owned_lists!(SqliteStore, sqlx::Sqlite);
sql_owned_lists!(PostgresStore, sqlx::Postgres);
