//! User accounts and what belongs to them: users, their session and API tokens (stored as
//! SHA-256 hashes only), their watchlist and their notification channels.
//!
//! The store knows nothing of passwords or token formats: callers (the web edge, the CLI) hash
//! passwords with argon2id and tokens with SHA-256 and hand over the results. Every per-user
//! query takes the owner's id, so a caller cannot reach another user's token or channel by id.
//!
//! Every child table refers to `users` with `ON DELETE CASCADE`: [`Accounts::delete_user`]
//! removes the user's sessions, tokens, watchlist and channels in one statement, and tables added
//! later (alerts, deliveries) hang off users the same way.
//!
//! Watched symbols are tracked: [`crate::Store::tracked_symbols`] is the union of the operator's
//! list and every watchlist, so ingestion keeps a symbol fresh while anyone watches it.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ChannelKind, ChannelTarget, Symbol, UnknownName};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::StoreError;

pub(crate) use memory::MemoryAccounts;

/// A registered user. `password_hash` is an argon2id PHC string; never serialise it (`Debug`
/// leaves it out). Read from a `users` row as it is ([`USER_COLUMNS`]).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    /// Lowercased; unique without regard to case.
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What [`Accounts::create_user`] needs.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub is_admin: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Clone, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
    pub password_hash: Option<String>,
}

/// The result of [`Accounts::update_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserUpdated {
    Updated(User),
    NotFound,
    /// Another user has the new email.
    EmailTaken,
}

/// Whether a token logs a browser-like client in or serves scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// From `POST /v1/auth/login`; expires.
    Session,
    /// A personal API token; lives until deleted.
    Api,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Api => "api",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "session" => Ok(Self::Session),
            "api" => Ok(Self::Api),
            other => Err(StoreError::Corrupt(format!("token kind '{other}'"))),
        }
    }
}

impl TryFrom<String> for TokenKind {
    type Error = StoreError;

    fn try_from(text: String) -> Result<Self, StoreError> {
        Self::parse(&text)
    }
}

/// A stored token (its hash only, which `Debug` leaves out), read from an `auth_tokens` row as
/// it is ([`TOKEN_COLUMNS`]).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthToken {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "String")]
    pub kind: TokenKind,
    pub name: Option<String>,
    /// Lowercase hex SHA-256 of the token.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What [`Accounts::create_token`] needs.
#[derive(Clone)]
pub struct NewToken {
    pub user_id: String,
    pub kind: TokenKind,
    pub name: Option<String>,
    pub token_hash: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewToken {
    /// The token as stored with `id` at `at`.
    pub(crate) fn stored(&self, id: String, at: DateTime<Utc>) -> AuthToken {
        AuthToken {
            id,
            user_id: self.user_id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            token_hash: self.token_hash.clone(),
            created_at: at,
            expires_at: self.expires_at,
        }
    }
}

redacted_debug!(User { id, email, display_name, is_admin, created_at, updated_at }
    hiding { password_hash });
redacted_debug!(NewUser { email, display_name, is_admin } hiding { password_hash });
redacted_debug!(UserUpdate { email, display_name } hiding { password_hash });
redacted_debug!(AuthToken { id, user_id, kind, name, created_at, expires_at }
    hiding { token_hash });
redacted_debug!(NewToken { user_id, kind, name, expires_at } hiding { token_hash });

/// A symbol on a user's watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchedSymbol {
    pub symbol: Symbol,
    pub added_at: DateTime<Utc>,
}

/// The `(kind, target, secret, format)` columns of a channel's target.
pub(crate) fn target_columns(
    target: &ChannelTarget,
) -> (&'static str, &str, Option<&str>, Option<&'static str>) {
    let kind = target.kind().as_str();
    match target {
        ChannelTarget::Webhook {
            url,
            secret,
            format,
        } => (
            kind,
            url,
            Some(secret.expose_secret()),
            Some(format.as_str()),
        ),
        ChannelTarget::Email { address } => (kind, address, None, None),
        ChannelTarget::Sms { phone } => (kind, phone, None, None),
    }
}

/// A channel's target from its columns. A kind or format this build does not know (written by
/// a newer build, or by hand) is unreadable, never read as some other shape.
fn target_from_columns(
    kind: String,
    target: String,
    secret: Option<String>,
    format: Option<String>,
) -> Result<ChannelTarget, UnreadableTarget> {
    let unreadable = |reason: String| UnreadableTarget {
        kind: kind.clone(),
        reason,
    };
    Ok(
        match kind
            .parse()
            .map_err(|err: UnknownName| unreadable(err.to_string()))?
        {
            ChannelKind::Webhook => ChannelTarget::Webhook {
                url: target,
                secret: SecretString::from(
                    secret.ok_or_else(|| unreadable("the webhook has no secret".into()))?,
                ),
                // Stored by every build that had formats; an older row without one is generic.
                format: format
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|err: UnknownName| unreadable(err.to_string()))?
                    .unwrap_or_default(),
            },
            ChannelKind::Email => ChannelTarget::Email { address: target },
            ChannelKind::Sms => ChannelTarget::Sms { phone: target },
        },
    )
}

/// A stored channel this build cannot read: it is not sent to (its notifications fail at once)
/// and its owner sees why until they replace or delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableTarget {
    /// The stored kind, as it is.
    pub kind: String,
    /// What is wrong (`unknown webhook format 'teams' (expected one of: …)`).
    pub reason: String,
}

/// A user's notification channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub user_id: String,
    /// `Err` for a stored row this build cannot read (see [`UnreadableTarget`]).
    pub target: Result<ChannelTarget, UnreadableTarget>,
    pub created_at: DateTime<Utc>,
}

/// Users, tokens, watchlists and channels.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates a user with a new id; `None` when the email (in any case) is taken.
    async fn create_user(
        &self,
        new: &NewUser,
        at: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;

    async fn user(&self, id: &str) -> Result<Option<User>, StoreError>;

    /// The user with this email, compared without regard to case.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Every user, oldest first.
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    async fn update_user(
        &self,
        id: &str,
        update: &UserUpdate,
        at: DateTime<Utc>,
    ) -> Result<UserUpdated, StoreError>;

    /// Deletes the user and (by cascade) everything they own; `false` when there was no such
    /// user.
    async fn delete_user(&self, id: &str) -> Result<bool, StoreError>;

    /// Stores a token hash with a new id.
    async fn create_token(
        &self,
        new: &NewToken,
        at: DateTime<Utc>,
    ) -> Result<AuthToken, StoreError>;

    /// The token with this hash and its user, unless it expired by `now`.
    async fn token_by_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(AuthToken, User)>, StoreError>;

    /// The user's tokens of one kind, oldest first.
    async fn tokens(&self, user_id: &str, kind: TokenKind) -> Result<Vec<AuthToken>, StoreError>;

    /// Deletes one of the user's tokens; `false` when the user has no token with this id.
    async fn delete_token(&self, user_id: &str, token_id: &str) -> Result<bool, StoreError>;

    /// Deletes expired tokens; returns how many.
    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Adds a symbol to the user's watchlist: `true` when added now (the first `added_at` is
    /// kept).
    async fn watch(
        &self,
        user_id: &str,
        symbol: Symbol,
        at: DateTime<Utc>,
    ) -> Result<(WatchedSymbol, bool), StoreError>;

    /// `false` when the symbol was not on the user's watchlist.
    async fn unwatch(&self, user_id: &str, symbol: Symbol) -> Result<bool, StoreError>;

    /// The user's watchlist, in symbol order.
    async fn watchlist(&self, user_id: &str) -> Result<Vec<WatchedSymbol>, StoreError>;

    async fn create_channel(
        &self,
        user_id: &str,
        target: &ChannelTarget,
        at: DateTime<Utc>,
    ) -> Result<Channel, StoreError>;

    /// The user's channels, oldest first.
    async fn channels(&self, user_id: &str) -> Result<Vec<Channel>, StoreError>;

    /// One of the user's channels; `None` when the user has none with this id (whoever else
    /// may own it).
    async fn channel(&self, user_id: &str, id: &str) -> Result<Option<Channel>, StoreError>;

    /// Replaces the target of one of the user's channels; `None` when the user has none with
    /// this id.
    async fn update_channel(
        &self,
        user_id: &str,
        id: &str,
        target: &ChannelTarget,
    ) -> Result<Option<Channel>, StoreError>;

    async fn delete_channel(&self, user_id: &str, id: &str) -> Result<bool, StoreError>;
}

/// A new time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) const USER_COLUMNS: &str =
    "id, email, display_name, password_hash, is_admin, created_at, updated_at";
pub(crate) const TOKEN_COLUMNS: &str =
    "id, user_id, kind, name, token_hash, created_at, expires_at";
pub(crate) const CHANNEL_COLUMNS: &str = "id, user_id, kind, target, secret, format, created_at";

/// The statement inserting `new` as user `id`, created at `at` (registration with or without an
/// invitation).
pub(crate) fn insert_user<'q, DB: sqlx::Database>(
    id: &'q str,
    new: &'q NewUser,
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    &'q str: sqlx::Encode<'q, DB> + Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + Type<DB>,
    bool: sqlx::Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "insert into users (id, email, display_name, password_hash, is_admin, created_at, \
         updated_at) values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(new.email.as_str())
    .bind(new.display_name.as_deref())
    .bind(new.password_hash.as_str())
    .bind(new.is_admin)
    .bind(at)
}

/// Reads a `users` row ([`USER_COLUMNS`]).
pub(crate) fn user<'r, R: Row>(row: &'r R) -> Result<User, StoreError>
where
    User: FromRow<'r, R>,
{
    Ok(User::from_row(row)?)
}

/// Reads an `auth_tokens` row ([`TOKEN_COLUMNS`]).
pub(crate) fn token<'r, R: Row>(row: &'r R) -> Result<AuthToken, StoreError>
where
    AuthToken: FromRow<'r, R>,
{
    Ok(AuthToken::from_row(row)?)
}

pub(crate) fn watched<'r, R>(row: &'r R) -> Result<WatchedSymbol, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    // The same columns as a tracked symbol.
    let tracked = crate::rows::tracked_symbol(row)?;
    Ok(WatchedSymbol {
        symbol: tracked.symbol,
        added_at: tracked.added_at,
    })
}

pub(crate) fn channel<'r, R>(row: &'r R) -> Result<Channel, StoreError>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Channel {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        target: target_from_columns(
            row.try_get("kind")?,
            row.try_get("target")?,
            row.try_get("secret")?,
            row.try_get("format")?,
        ),
        created_at: row.try_get("created_at")?,
    })
}

/// Whether a database error is a unique-constraint violation (a taken email).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use domain::WebhookFormat;

    use super::*;

    fn webhook(
        format: Option<&str>,
        secret: Option<&str>,
    ) -> Result<ChannelTarget, UnreadableTarget> {
        target_from_columns(
            "webhook".into(),
            "https://hooks.example.com/x".into(),
            secret.map(str::to_owned),
            format.map(str::to_owned),
        )
    }

    #[test]
    fn a_stored_target_reads_back_as_written() {
        let target = ChannelTarget::Webhook {
            url: "https://hooks.example.com/x".into(),
            secret: SecretString::from("whsec_0123456789"),
            format: WebhookFormat::Discord,
        };
        let (kind, text, secret, format) = target_columns(&target);
        let back = target_from_columns(
            kind.into(),
            text.into(),
            secret.map(str::to_owned),
            format.map(str::to_owned),
        );
        assert_eq!(back, Ok(target));
    }

    #[test]
    fn an_unknown_kind_or_format_is_unreadable_never_generic() {
        let err = webhook(Some("teams"), Some("whsec_0123456789")).unwrap_err();
        assert_eq!(err.kind, "webhook");
        assert!(
            err.reason.contains("unknown webhook format 'teams'"),
            "{}",
            err.reason
        );
        let err = target_from_columns("pager".into(), "x".into(), None, None).unwrap_err();
        assert_eq!(err.kind, "pager");
        assert!(
            err.reason.contains("unknown channel kind 'pager'"),
            "{}",
            err.reason
        );
        // A webhook without a secret would be signed with an empty key.
        assert!(webhook(Some("generic"), None).is_err());
        // Rows written before formats existed have none: generic, as they were sent then.
        assert!(matches!(
            webhook(None, Some("whsec_0123456789")),
            Ok(ChannelTarget::Webhook {
                format: WebhookFormat::Generic,
                ..
            })
        ));
    }

    #[test]
    fn debug_never_shows_a_password_or_token_hash() {
        let at = Utc::now();
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        let token_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let user = User {
            id: "u1".into(),
            email: "ada@example.com".into(),
            display_name: None,
            password_hash: hash.into(),
            is_admin: false,
            created_at: at,
            updated_at: at,
        };
        let new_user = NewUser {
            email: "ada@example.com".into(),
            display_name: None,
            password_hash: hash.into(),
            is_admin: true,
        };
        let update = UserUpdate {
            password_hash: Some(hash.into()),
            ..UserUpdate::default()
        };
        let token = AuthToken {
            id: "t1".into(),
            user_id: "u1".into(),
            kind: TokenKind::Api,
            name: Some("ci".into()),
            token_hash: token_hash.into(),
            created_at: at,
            expires_at: None,
        };
        let new_token = NewToken {
            user_id: "u1".into(),
            kind: TokenKind::Session,
            name: None,
            token_hash: token_hash.into(),
            expires_at: Some(at),
        };
        let invite = crate::Invite {
            id: "i1".into(),
            code_hash: token_hash.into(),
            note: None,
            created_by: None,
            created_at: at,
            expires_at: at,
            used_at: None,
            used_by: None,
        };
        let new_invite = crate::NewInvite {
            code_hash: token_hash.into(),
            note: None,
            created_by: None,
            expires_at: at,
        };
        let debug = format!(
            "{user:?} {new_user:?} {update:?} {token:?} {new_token:?} {invite:?} {new_invite:?} {user:#?}"
        );
        assert!(
            !debug.contains("argon2id") && !debug.contains("aGFzaA"),
            "{debug}"
        );
        assert!(!debug.contains(token_hash), "{debug}");
        assert!(
            debug.contains("ada@example.com") && debug.contains("[redacted]"),
            "{debug}"
        );
        assert!(debug.contains("password_hash: Some([redacted])"), "{debug}");
        assert!(format!("{:?}", UserUpdate::default()).contains("password_hash: None"));
    }
}
