//! Invitation codes for invite-only sign-up: an admin makes a single-use code with an expiry,
//! and a registration that carries it spends it.
//!
//! Like tokens, only a code's SHA-256 is stored (callers hash; the store never sees a code), so
//! a database leak hands out no working invitation. Spending a code and creating the user are
//! one transaction ([`Invites::create_user_with_invite`]): a code is spent exactly once, and a
//! registration refused for a taken email leaves the code unspent.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

use crate::accounts::new_id;
use crate::{NewUser, StoreError, User};

pub(crate) use memory::MemoryInvites;

/// A stored invitation (its hash only, which `Debug` leaves out), read from an `invites` row as
/// it is ([`INVITE_COLUMNS`]).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invite {
    pub id: String,
    /// Lowercase hex SHA-256 of the code.
    pub code_hash: String,
    /// What the invitation is for, e.g. who it was sent to.
    pub note: Option<String>,
    /// The admin user who made it; `None` for the operator (admin token or CLI) or a deleted
    /// user.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When a registration spent it.
    pub used_at: Option<DateTime<Utc>>,
    /// The user it made; `None` while unused or once that user is deleted.
    pub used_by: Option<String>,
}

impl Invite {
    /// Whether a registration at `now` may spend it: unused and not expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

/// What [`Invites::create_invite`] needs.
#[derive(Clone)]
pub struct NewInvite {
    pub code_hash: String,
    pub note: Option<String>,
    pub created_by: Option<String>,
    pub expires_at: DateTime<Utc>,
}

redacted_debug!(Invite { id, note, created_by, created_at, expires_at, used_at, used_by }
    hiding { code_hash });
redacted_debug!(NewInvite { note, created_by, expires_at } hiding { code_hash });

/// The result of [`Invites::create_user_with_invite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitedSignup {
    /// The user exists and the code is spent.
    Created(User),
    /// Another user has the email; the code is left unspent.
    EmailTaken,
    /// No code with this hash, or it is used or expired; no user was made.
    InviteUnusable,
}

/// Invitation codes.
#[async_trait]
pub trait Invites: Send + Sync {
    /// Stores an invitation with a new id.
    async fn create_invite(&self, new: &NewInvite, at: DateTime<Utc>)
    -> Result<Invite, StoreError>;

    /// Every invitation, newest first.
    async fn invites(&self) -> Result<Vec<Invite>, StoreError>;

    /// The invitation with this code hash, if a registration at `now` may spend it.
    async fn usable_invite(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invite>, StoreError>;

    /// Deletes an invitation (used or not); `false` when there is none with this id.
    async fn delete_invite(&self, id: &str) -> Result<bool, StoreError>;

    /// Creates the user and spends the code, both or neither.
    async fn create_user_with_invite(
        &self,
        new: &NewUser,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<InvitedSignup, StoreError>;
}

pub(crate) const INVITE_COLUMNS: &str =
    "id, code_hash, note, created_by, created_at, expires_at, used_at, used_by";

/// Reads an `invites` row ([`INVITE_COLUMNS`]).
fn invite<'r, R: Row>(row: &'r R) -> Result<Invite, StoreError>
where
    Invite: FromRow<'r, R>,
{
    Ok(Invite::from_row(row)?)
}

/// A new invitation row's values.
fn new_invite(new: &NewInvite, at: DateTime<Utc>) -> Invite {
    Invite {
        id: new_id(),
        code_hash: new.code_hash.clone(),
        note: new.note.clone(),
        created_by: new.created_by.clone(),
        created_at: at,
        expires_at: new.expires_at,
        used_at: None,
        used_by: None,
    }
}
