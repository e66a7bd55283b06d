//! Accounts: sign-up and admin-made users (one creation step), sign-in and sessions, the
//! caller's profile, personal API tokens, and invitation codes.

use chrono::{DateTime, Utc};
use store::{
    AuthToken, Invite, InvitedSignup, NewInvite, NewToken, NewUser, TokenKind, User, UserUpdate,
    UserUpdated,
};

use crate::auth::{self, policy};
use crate::stream::Revoked;
use crate::{Caller, Service, ServiceError, UserCaps};

/// How long an invitation is valid when the request does not say.
pub const DEFAULT_INVITE_DAYS: u32 = 7;
/// The longest an invitation may be valid.
pub const MAX_INVITE_DAYS: u32 = 90;

/// Lowercased, trimmed email, or 422 naming `field`.
pub fn normalize_email(text: &str, field: &str) -> Result<String, ServiceError> {
    let email = text.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !domain.contains("..")
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(ServiceError::Unprocessable(format!(
            "{field}: not an email address (expected name@example.com)"
        )))
    }
}

/// A trimmed name (empty is none), at most 100 characters, or 422 naming `field`.
pub fn clean_name(name: Option<String>, field: &str) -> Result<Option<String>, ServiceError> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ServiceError::Unprocessable(format!(
            "{field}: must be at most 100 characters"
        )));
    }
    Ok(name)
}

/// A new account's checked fields: the email normalised, the password's shape checked (its
/// strength is estimated with the hashing), the display name cleaned. `Debug` hides the
/// password.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
}

store::redacted_debug!(NewAccount { email, display_name, is_admin } hiding { password });

impl NewAccount {
    /// 422 naming the field when one is invalid.
    pub fn parse(
        email: &str,
        password: String,
        display_name: Option<String>,
        is_admin: bool,
    ) -> Result<Self, ServiceError> {
        let email = normalize_email(email, "email")?;
        policy::check_shape(&password, "password").map_err(ServiceError::Unprocessable)?;
        let display_name = clean_name(display_name, "display_name")?;
        Ok(Self {
            email,
            password,
            display_name,
            is_admin,
        })
    }
}

/// A new session: the token (shown once) and when it expires. `Debug` hides the token.
pub struct Session {
    pub token: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub user: User,
}

store::redacted_debug!(Session { expires_at, user } hiding { token });

/// A change of the caller's profile; the email and the password need the current password.
/// `Debug` hides both passwords.
#[derive(Default)]
pub struct ProfileChange {
    /// `Some(None)` clears the display name.
    pub display_name: Option<Option<String>>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

store::redacted_debug!(ProfileChange { display_name, email } hiding { password, current_password });

fn invite_unusable() -> ServiceError {
    ServiceError::Forbidden(
        "invite: this invitation code is unknown, used or expired; ask an administrator for a new one"
            .into(),
    )
}

fn token_invalid() -> ServiceError {
    ServiceError::Unauthorized(
        "the bearer token is not valid (unknown, revoked or expired); sign in again".into(),
    )
}

impl Service {
    /// The user a token belongs to, if it is a live session or API token.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>, ServiceError> {
        if !(token.starts_with(auth::SESSION_PREFIX) || token.starts_with(auth::API_TOKEN_PREFIX)) {
            return Ok(None);
        }
        let found = self
            .store()
            .token_by_hash(&auth::token_hash(token), Utc::now())
            .await?;
        Ok(found.map(|(token, user)| Caller { user, token }))
    }

    /// The user with this email when `password` is theirs. An unknown email is checked against
    /// a dummy hash of the same cost: the answer and its timing are the same as for a wrong
    /// password.
    pub async fn check_credentials(
        &self,
        email: &str,
        password: String,
    ) -> Result<Option<User>, ServiceError> {
        let user = self.store().user_by_email(email).await?;
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = self.settings().hasher.verify(password, stored).await?;
        Ok(user.filter(|_| ok))
    }

    /// Starts a session for `user`, valid for the configured session lifetime.
    pub async fn start_session(&self, user: User) -> Result<Session, ServiceError> {
        let store = self.store();
        let token = auth::new_token(auth::SESSION_PREFIX)?;
        let now = Utc::now();
        let expires_at = chrono::Duration::from_std(self.settings().session_ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl));
        store
            .create_token(
                &NewToken {
                    user_id: user.id.clone(),
                    kind: TokenKind::Session,
                    name: None,
                    token_hash: auth::token_hash(&token),
                    expires_at,
                },
                now,
            )
            .await?;
        // Sweeping expired sessions at login keeps the table from growing without a job for it.
        if let Err(err) = store.delete_expired_tokens(now).await {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
        tracing::info!(user_id = %user.id, "user signed in");
        Ok(Session {
            token,
            expires_at,
            user,
        })
    }

    /// Revokes the token the caller came with.
    pub async fn sign_out(&self, caller: &Caller) -> Result<(), ServiceError> {
        self.store()
            .delete_token(&caller.user.id, &caller.token.id)
            .await?;
        self.revoked(&caller.user.id, Revoked::Token(&caller.token.id));
        Ok(())
    }

    /// Changes the caller's display name, email or password. A new password ends every other
    /// session.
    pub async fn update_profile(
        &self,
        caller: &Caller,
        change: ProfileChange,
    ) -> Result<User, ServiceError> {
        let email = change
            .email
            .as_deref()
            .map(|e| normalize_email(e, "email"))
            .transpose()?;
        if let Some(password) = &change.password {
            policy::check_shape(password, "password").map_err(ServiceError::Unprocessable)?;
        }
        let display_name = change
            .display_name
            .map(|name| clean_name(name, "display_name"))
            .transpose()?;
        let sensitive = email.is_some() || change.password.is_some();
        let hasher = &self.settings().hasher;
        if sensitive {
            let current = change.current_password.ok_or_else(|| {
                ServiceError::Forbidden(
                    "current_password: changing the email or the password needs the current password"
                        .into(),
                )
            })?;
            let ok = hasher
                .verify(current, Some(caller.user.password_hash.clone()))
                .await?;
            if !ok {
                return Err(ServiceError::Forbidden(
                    "current_password: the current password is wrong".into(),
                ));
            }
        }
        let password_hash = match change.password {
            Some(password) => {
                // Judged against the email and name the account will have after this change.
                let email = email.clone().unwrap_or_else(|| caller.user.email.clone());
                let name = match &display_name {
                    Some(name) => name.clone(),
                    None => caller.user.display_name.clone(),
                };
                Some(hasher.hash_new(password, email, name, "password").await?)
            }
            None => None,
        };
        let password_changed = password_hash.is_some();
        let update = UserUpdate {
            email,
            display_name,
            password_hash,
        };
        let store = self.store();
        let user = match store
            .update_user(&caller.user.id, &update, Utc::now())
            .await?
        {
            UserUpdated::Updated(user) => user,
            UserUpdated::EmailTaken => {
                return Err(ServiceError::Conflict(
                    "email: another account has this email".into(),
                ));
            }
            UserUpdated::NotFound => return Err(token_invalid()),
        };
        if password_changed {
            // Whoever knew the old password may hold a session: end every session but this one.
            for session in store.tokens(&user.id, TokenKind::Session).await? {
                if session.id != caller.token.id {
                    store.delete_token(&user.id, &session.id).await?;
                }
            }
            // API tokens stay (they are not sessions), and so do their streams.
            self.revoked(&user.id, Revoked::OtherSessions(&caller.token.id));
        }
        Ok(user)
    }

    /// Deletes the caller's account and everything it owns.
    pub async fn delete_account(&self, caller: &Caller) -> Result<(), ServiceError> {
        self.store().delete_user(&caller.user.id).await?;
        self.revoked(&caller.user.id, Revoked::All);
        tracing::info!(user_id = %caller.user.id, "user deleted their account");
        Ok(())
    }

    /// Creates a personal API token, within `max_tokens_per_user`: the stored token and the
    /// token itself (shown once).
    pub async fn create_api_token(
        &self,
        caller: &Caller,
        name: Option<String>,
    ) -> Result<(AuthToken, String), ServiceError> {
        let name = clean_name(name, "name")?;
        let token = auth::new_token(auth::API_TOKEN_PREFIX)?;
        let cap = UserCaps::of(self.settings().caps.tokens);
        let created = self
            .store()
            .create_token_within(
                &NewToken {
                    user_id: caller.user.id.clone(),
                    kind: TokenKind::Api,
                    name,
                    token_hash: auth::token_hash(&token),
                    expires_at: None,
                },
                Utc::now(),
                cap,
            )
            .await?;
        let store::Capped::Created(stored) = created else {
            let cap = cap.unwrap_or_default();
            return Err(ServiceError::CapReached {
                setting: "max_tokens_per_user",
                cap,
                detail: format!(
                    "you have {cap} API tokens, the most one account may; delete one you no longer use (DELETE /v1/me/tokens/{{id}})"
                ),
            });
        };
        Ok((stored, token))
    }

    /// Up to `limit` of the caller's API tokens after `after`, oldest first.
    pub async fn api_tokens(
        &self,
        caller: &Caller,
        after: Option<&store::After<String>>,
        limit: u32,
    ) -> Result<Vec<AuthToken>, ServiceError> {
        Ok(self
            .store()
            .api_tokens_page(&caller.user.id, after, limit)
            .await?)
    }

    /// Deletes one of the caller's API tokens (sessions end by signing out, not here).
    pub async fn delete_api_token(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        let store = self.store();
        let owned = store
            .tokens(&caller.user.id, TokenKind::Api)
            .await?
            .iter()
            .any(|t| t.id == id);
        if owned && store.delete_token(&caller.user.id, id).await? {
            self.revoked(&caller.user.id, Revoked::Token(id));
            Ok(())
        } else {
            Err(ServiceError::NotFound(
                "you have no API token with this id".into(),
            ))
        }
    }

    /// 403 unless `invite_hash` is the hash of a usable invitation.
    pub async fn check_invite(&self, invite_hash: &str) -> Result<(), ServiceError> {
        match self.store().usable_invite(invite_hash, Utc::now()).await? {
            Some(_) => Ok(()),
            None => Err(invite_unusable()),
        }
    }

    /// Estimates the password's strength and hashes it (one pool job), calls `hashed` (the
    /// hash is spent), then stores the user, spending the invitation with this code hash in the
    /// same transaction when one is given.
    pub async fn create_account(
        &self,
        account: NewAccount,
        invite_hash: Option<&str>,
        hashed: impl FnOnce(),
    ) -> Result<User, ServiceError> {
        let password_hash = self
            .settings()
            .hasher
            .hash_new(
                account.password,
                account.email.clone(),
                account.display_name.clone(),
                "password",
            )
            .await?;
        hashed();
        let new = NewUser {
            email: account.email,
            display_name: account.display_name,
            password_hash,
            is_admin: account.is_admin,
        };
        let taken = || {
            ServiceError::Conflict(
                "email: an account with this email exists already; sign in instead".into(),
            )
        };
        let store = self.store();
        match invite_hash {
            None => store.create_user(&new, Utc::now()).await?.ok_or_else(taken),
            Some(hash) => match store
                .create_user_with_invite(&new, hash, Utc::now())
                .await?
            {
                InvitedSignup::Created(user) => Ok(user),
                InvitedSignup::EmailTaken => Err(taken()),
                InvitedSignup::InviteUnusable => Err(invite_unusable()),
            },
        }
    }

    /// Every user, for the operator.
    pub async fn users(&self) -> Result<Vec<User>, ServiceError> {
        Ok(self.store().users().await?)
    }

    /// Makes an invitation code valid for `valid_days` (default 7): the code, shown once, and
    /// the stored invitation.
    pub async fn issue_invite(
        &self,
        valid_days: Option<u32>,
        note: Option<String>,
        created_by: Option<String>,
    ) -> Result<(String, Invite), ServiceError> {
        let days = valid_days.unwrap_or(DEFAULT_INVITE_DAYS);
        if !(1..=MAX_INVITE_DAYS).contains(&days) {
            return Err(ServiceError::Unprocessable(format!(
                "valid_days: must be from 1 to {MAX_INVITE_DAYS}, got {days}"
            )));
        }
        let note = clean_name(note, "note")?;
        let code = auth::new_token(auth::INVITE_PREFIX)?;
        let now = Utc::now();
        let new = NewInvite {
            code_hash: auth::token_hash(&code),
            note,
            created_by,
            expires_at: now + chrono::Duration::days(i64::from(days)),
        };
        let invite = self.store().create_invite(&new, now).await?;
        Ok((code, invite))
    }

    /// Every invitation, newest first.
    pub async fn invites(&self) -> Result<Vec<Invite>, ServiceError> {
        Ok(self.store().invites().await?)
    }

    /// Deletes an invitation (revoking it if unused).
    pub async fn delete_invite(&self, id: &str) -> Result<(), ServiceError> {
        if self.store().delete_invite(id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(
                "there is no invitation with this id".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_password_or_token() {
        let secret = "correct horse battery staple 42";
        let account = NewAccount {
            email: "ada@example.com".into(),
            password: secret.into(),
            display_name: None,
            is_admin: false,
        };
        let change = ProfileChange {
            email: Some("ada@example.com".into()),
            password: Some(secret.into()),
            current_password: Some(secret.into()),
            ..ProfileChange::default()
        };
        let session = Session {
            token: secret.into(),
            expires_at: None,
            user: User {
                id: "u1".into(),
                email: "ada@example.com".into(),
                display_name: None,
                password_hash: secret.into(),
                is_admin: false,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
        };
        let debug = format!("{account:?} {change:?} {session:?}");
        assert!(debug.contains("ada@example.com"), "{debug}");
        assert!(!debug.contains(secret), "{debug}");
    }
}
