//! Invitations in SQLite and PostgreSQL: one set of statements for both (numbered parameters,
//! which sqlx's SQLite driver binds by number too), stamped out per store by [`sql_invites`].
//!
//! A code is spent by `update … where used_at is null` inside the transaction that inserts the
//! user: of two registrations racing with one code, the second updates no row (PostgreSQL
//! re-checks the condition after the first commits; SQLite runs one writer at a time) and rolls
//! its user back. Expiry is compared in Rust, not SQL: SQLite keeps instants as text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{INVITE_COLUMNS, Invite, InvitedSignup, Invites, NewInvite, invite, new_invite};
use crate::accounts::{USER_COLUMNS, insert_user, is_unique_violation, new_id, user};
use crate::{NewUser, PostgresStore, SqliteStore, StoreError};

/// `impl Invites for $store` over its `pool()`.
macro_rules! sql_invites {
    ($store:ty) => {
        #[async_trait]
        impl Invites for $store {
            async fn create_invite(
                &self,
                new: &NewInvite,
                at: DateTime<Utc>,
            ) -> Result<Invite, StoreError> {
                let row = new_invite(new, at);
                sqlx::query(
                    "insert into invites (id, code_hash, note, created_by, created_at, expires_at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&row.id)
                .bind(&row.code_hash)
                .bind(&row.note)
                .bind(&row.created_by)
                .bind(row.created_at)
                .bind(row.expires_at)
                .execute(self.pool())
                .await?;
                Ok(row)
            }

            async fn invites(&self) -> Result<Vec<Invite>, StoreError> {
                sqlx::query(AssertSqlSafe(format!(
                    "select {INVITE_COLUMNS} from invites order by id desc"
                )))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(invite)
                .collect()
            }

            async fn usable_invite(
                &self,
                code_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<Invite>, StoreError> {
                let found = sqlx::query(AssertSqlSafe(format!(
                    "select {INVITE_COLUMNS} from invites where code_hash = $1"
                )))
                .bind(code_hash)
                .fetch_optional(self.pool())
                .await?
                .as_ref()
                .map(invite)
                .transpose()?;
                Ok(found.filter(|invite| invite.is_usable(now)))
            }

            async fn delete_invite(&self, id: &str) -> Result<bool, StoreError> {
                let deleted = sqlx::query("delete from invites where id = $1")
                    .bind(id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
                Ok(deleted == 1)
            }

            async fn create_user_with_invite(
                &self,
                new: &NewUser,
                code_hash: &str,
                at: DateTime<Utc>,
            ) -> Result<InvitedSignup, StoreError> {
                // The insert comes first: on SQLite a transaction that writes first takes the
                // write lock (waiting its turn) instead of failing to upgrade a read snapshot.
                let mut tx = self.pool().begin().await?;
                let id = new_id();
                let inserted = insert_user(&id, new, at).execute(&mut *tx).await;
                match inserted {
                    Ok(_) => {}
                    // Dropping the transaction rolls it back: the code stays unspent.
                    Err(err) if is_unique_violation(&err) => return Ok(InvitedSignup::EmailTaken),
                    Err(err) => return Err(err.into()),
                }
                let found = sqlx::query(AssertSqlSafe(format!(
                    "select {INVITE_COLUMNS} from invites where code_hash = $1"
                )))
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(invite)
                .transpose()?;
                let Some(found) = found.filter(|invite| invite.is_usable(at)) else {
                    return Ok(InvitedSignup::InviteUnusable);
                };
                let spent = sqlx::query(
                    "update invites set used_at = $1, used_by = $2 where id = $3 and used_at is null",
                )
                .bind(at)
                .bind(&id)
                .bind(&found.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if spent != 1 {
                    return Ok(InvitedSignup::InviteUnusable);
                }
                let created = sqlx::query(AssertSqlSafe(format!(
                    "select {USER_COLUMNS} from users where id = $1"
                )))
                .bind(&id)
                .fetch_one(&mut *tx)
                .await?;
                let created = user(&created)?;
                tx.commit().await?;
                Ok(InvitedSignup::Created(created))
            }
        }
    };
}

sql_invites!(SqliteStore);
sql_invites!(PostgresStore);
