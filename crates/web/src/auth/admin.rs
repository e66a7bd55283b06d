//! Who may use the operator routes (tracked symbols, invitations, making users): the session
//! or API token of an admin user, or the operator's `admin_token`. Both come as
//! `Authorization: Bearer <token>`, read by the one [`super::bearer`] parser (the scheme is
//! case-insensitive, as RFC 9110 says); the admin token is compared in constant time.

use axum::http::HeaderMap;
use secrecy::ExposeSecret;

use crate::AppState;
use crate::error::ApiError;

/// Who passed [`require_admin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// An admin user, by id.
    User(String),
    /// The holder of the operator's admin token.
    Operator,
}

impl Admin {
    /// The admin user's id; `None` for the operator.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::User(id) => Some(id),
            Self::Operator => None,
        }
    }
}

/// Checks the request's bearer token: an admin user's token or the operator's admin token.
/// `no_admin` is the 403's detail when the caller is no admin user and no admin token is
/// configured: what needs an admin, and the other ways to do it.
pub(crate) async fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
    no_admin: &str,
) -> Result<Admin, ApiError> {
    let given = super::bearer(headers);
    if let Some(token) = given
        && let Some(caller) = super::authenticate(state, token).await?
        && caller.user.is_admin
    {
        return Ok(Admin::User(caller.user.id));
    }
    let Some(expected) = &state.config().admin_token else {
        return Err(ApiError::Forbidden(no_admin.to_owned()));
    };
    let given = given.ok_or_else(|| {
        ApiError::Unauthorized("send the admin token as `Authorization: Bearer <token>`".into())
    })?;
    if constant_time_eq(given.as_bytes(), expected.expose_secret().as_bytes()) {
        Ok(Admin::Operator)
    } else {
        Err(ApiError::Forbidden("the admin token is not valid".into()))
    }
}

/// Compares without an early exit, so the time taken says nothing about where a guess differs.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_compare_equal_and_others_do_not() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
