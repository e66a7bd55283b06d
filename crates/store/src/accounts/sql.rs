//! Accounts in SQLite and PostgreSQL: one set of statements for both. They use PostgreSQL's
//! numbered parameters (`$1`), which sqlx's SQLite driver binds by number as well, so the two
//! implementations differ only in the store type and [`sql_accounts`] stamps out each. (A
//! generic impl over `sqlx::Database` would need an encode, decode and executor bound for every
//! type and statement.) Foreign keys are on for every SQLite connection (the store's connect
//! options), which the cascading deletes rely on; on PostgreSQL the unique index on
//! `lower(email)` settles concurrent registrations of one address, as it does on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use sqlx::AssertSqlSafe;

use super::{
    Accounts, AuthToken, CHANNEL_COLUMNS, Channel, ChannelTarget, NewToken, NewUser, TOKEN_COLUMNS,
    TokenKind, USER_COLUMNS, User, UserUpdate, UserUpdated, WatchedSymbol, channel, insert_user,
    is_unique_violation, new_id, target_columns, token, user, watched,
};
use crate::{PostgresStore, SqliteStore, StoreError};

/// `impl Accounts for $store` over its `pool()`.
macro_rules! sql_accounts {
    ($store:ty) => {
        #[async_trait]
        impl Accounts for $store {
            async fn create_user(
                &self,
                new: &NewUser,
                at: DateTime<Utc>,
            ) -> Result<Option<User>, StoreError> {
                let id = new_id();
                let inserted = insert_user(&id, new, at).execute(self.pool()).await;
                match inserted {
                    Ok(_) => self.user(&id).await,
                    Err(err) if is_unique_violation(&err) => Ok(None),
                    Err(err) => Err(err.into()),
                }
            }

            async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {USER_COLUMNS} from users where id = $1"
                )))
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(user)
                .transpose()
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {USER_COLUMNS} from users where lower(email) = lower($1)"
                )))
                .bind(email)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(user)
                .transpose()
            }

            async fn users(&self) -> Result<Vec<User>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {USER_COLUMNS} from users order by created_at, id"
                )))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(user)
                .collect()
            }

            async fn update_user(
                &self,
                id: &str,
                update: &UserUpdate,
                at: DateTime<Utc>,
            ) -> Result<UserUpdated, StoreError> {
                let Some(current) = self.user(id).await? else {
                    return Ok(UserUpdated::NotFound);
                };
                let email = update.email.as_ref().unwrap_or(&current.email);
                let display_name = update
                    .display_name
                    .as_ref()
                    .unwrap_or(&current.display_name);
                let hash = update
                    .password_hash
                    .as_ref()
                    .unwrap_or(&current.password_hash);
                let updated = sqlx::query(
                    "update users set email = $1, display_name = $2, password_hash = $3, updated_at = $4 \
                     where id = $5",
                )
                .bind(email)
                .bind(display_name)
                .bind(hash)
                .bind(at)
                .bind(id)
                .execute(self.pool())
                .await;
                match updated {
                    Ok(_) => Ok(match self.user(id).await? {
                        Some(user) => UserUpdated::Updated(user),
                        None => UserUpdated::NotFound,
                    }),
                    Err(err) if is_unique_violation(&err) => Ok(UserUpdated::EmailTaken),
                    Err(err) => Err(err.into()),
                }
            }

            async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from users where id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn create_token(
                &self,
                new: &NewToken,
                at: DateTime<Utc>,
            ) -> Result<AuthToken, StoreError> {
                crate::OwnedLists::create_token_within(self, new, at, None)
                    .await?
                    .uncapped()
            }

            async fn token_by_hash(
                &self,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<(AuthToken, User)>, StoreError> {
                let found = sqlx::query(AssertSqlSafe(format!(
                    "select {TOKEN_COLUMNS} from auth_tokens where token_hash = $1"
                )))
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(token)
                .transpose()?;
                let Some(found) = found.filter(|t| t.expires_at.is_none_or(|end| end > now)) else {
                    return Ok(None);
                };
                Ok(self.user(&found.user_id).await?.map(|user| (found, user)))
            }

            async fn tokens(&self, user_id: &str, kind: TokenKind) -> Result<Vec<AuthToken>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {TOKEN_COLUMNS} from auth_tokens where user_id = $1 and kind = $2 \
                     order by created_at, id"
                )))
                .bind(user_id)
                .bind(kind.as_str())
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(token)
                .collect()
            }

            async fn delete_token(&self, user_id: &str, token_id: &str) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from auth_tokens where user_id = $1 and id = $2")
                    .bind(user_id)
                    .bind(token_id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                Ok(
                    sqlx::query(
                        "delete from auth_tokens where expires_at is not null and expires_at <= $1",
                    )
                    .bind(now)
                    .execute(self.pool())
                    .await?
                    .rows_affected(),
                )
            }

            async fn watch(
                &self,
                user_id: &str,
                symbol: Symbol,
                at: DateTime<Utc>,
            ) -> Result<(WatchedSymbol, bool), StoreError> {
                crate::OwnedLists::watch_within(self, user_id, symbol, at, None)
                    .await?
                    .uncapped()
            }

            async fn unwatch(&self, user_id: &str, symbol: Symbol) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from watchlist where user_id = $1 and symbol = $2")
                    .bind(user_id)
                    .bind(symbol.as_str())
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn watchlist(&self, user_id: &str) -> Result<Vec<WatchedSymbol>, StoreError> {
                sqlx::query("select symbol, added_at from watchlist where user_id = $1 order by symbol")
                    .bind(user_id)
                    .fetch_all(self.pool())
                    .await?
                    .iter()
                    .map(watched)
                    .collect()
            }

            async fn create_channel(
                &self,
                user_id: &str,
                target: &ChannelTarget,
                at: DateTime<Utc>,
            ) -> Result<Channel, StoreError> {
                crate::OwnedLists::create_channel_within(self, user_id, target, at, None)
                    .await?
                    .uncapped()
            }

            async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {CHANNEL_COLUMNS} from channels where user_id = $1 order by created_at, id"
                )))
                .bind(user_id)
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(channel)
                .collect()
            }

            async fn channel(&self, user_id: &str, id: &str) -> Result<Option<Channel>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {CHANNEL_COLUMNS} from channels where user_id = $1 and id = $2"
                )))
                .bind(user_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(channel)
                .transpose()
            }

            async fn update_channel(
                &self,
                user_id: &str,
                id: &str,
                target: &ChannelTarget,
            ) -> Result<Option<Channel>, StoreError> {
                let (kind, text, secret, format) = target_columns(target);
                sqlx::query(
                    "update channels set kind = $1, target = $2, secret = $3, format = $4 \
                     where user_id = $5 and id = $6",
                )
                .bind(kind)
                .bind(text)
                .bind(secret)
                .bind(format)
                .bind(user_id)
                .bind(id)
                .execute(self.pool())
                .await?;
                self.channel(user_id, id).await
            }

            async fn delete_channel(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from channels where user_id = $1 and id = $2")
                    .bind(user_id)
                    .bind(id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }
        }
    };
}

sql_accounts!(SqliteStore);
sql_accounts!(PostgresStore);
