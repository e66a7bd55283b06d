//! Authentication at the HTTP edge: the [`AuthUser`] extractor (bearer tokens, checked by the
//! use cases in `service::auth`), the admin check, the sign-up mode, the client address, and
//! the login and registration rate limiters (per client address: abuse limits of the edge).
//! Password hashing, the password policy and tokens live in `service::auth` and are
//! re-exported here. Sessions expire a fixed [`AuthSettings::session_ttl`] after login (not
//! sliding: a stolen session dies on schedule however much it is used) and are revoked by
//! logout; API tokens live until deleted.

mod admin;
mod limiter;
mod signup;
mod windows;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::AppState;
use crate::error::ApiError;

pub use admin::Admin;
pub(crate) use admin::require_admin;
pub use limiter::{LoginAttempt, LoginLimiter, LoginLimits};
pub use service::Caller as AuthUser;
pub use service::auth::{
    API_TOKEN_PREFIX, HashPoolSize, INVITE_PREFIX, PasswordHasher, SESSION_PREFIX, new_token,
    policy, token_hash,
};
pub use signup::{SIGNUP_WINDOW, SignupLimiter, SignupMode, SignupSlot};

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a session token lives after login.
    pub session_ttl: Duration,
    /// Login failures allowed per account and address, per address, and per account.
    pub limits: LoginLimits,
    /// Who may register: anyone, holders of an invitation, or nobody (admins make accounts).
    pub signup: SignupMode,
    /// Registrations per client address per hour; 0: unlimited.
    pub signups_per_address: usize,
    /// Take the client address from the last `X-Forwarded-For` entry (the one the proxy in
    /// front of stockd appended). Only set this behind a proxy that always sets the header:
    /// otherwise any client could pick the address its failures are counted against.
    pub trust_forwarded_for: bool,
    /// argon2id cost and the size of the pool hashing runs in; [`PasswordHasher::default`] is
    /// argon2's default cost (OWASP: 19 MiB, t=2, p=1) with a worker per core.
    pub hasher: PasswordHasher,
    /// Non-public webhook destinations the operator permits (loopback, private and metadata
    /// addresses are refused otherwise when a channel is created).
    pub webhook_allow: notify::AllowList,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            limits: LoginLimits::default(),
            signup: SignupMode::Open,
            signups_per_address: 5,
            trust_forwarded_for: false,
            hasher: PasswordHasher::default(),
            webhook_allow: notify::AllowList::default(),
        }
    }
}

/// The bearer token of a request, if it carries one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

// `AuthUser` (the use cases' `Caller`) is the signed-in user of a request:
// `Authorization: Bearer <session or API token>`. It rejects with 401 problem+json (and
// `WWW-Authenticate: Bearer`) when the token is missing, unknown, revoked or expired, with one
// message for all of them.
impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized(
                "sign in: send `Authorization: Bearer <token>` (a session token from POST /v1/auth/login or a personal API token)".into(),
            )
        })?;
        authenticate(state, token).await?.ok_or_else(|| {
            ApiError::Unauthorized(
                "the bearer token is not valid (unknown, revoked or expired); sign in again".into(),
            )
        })
    }
}

/// The user a token belongs to, if it is a live session or API token.
pub(crate) async fn authenticate(
    state: &AppState,
    token: &str,
) -> Result<Option<AuthUser>, ApiError> {
    Ok(state.service().authenticate(token).await?)
}

/// The address login failures and registrations are counted against: the connection's peer, or
/// with `trust_forwarded_for` the last `X-Forwarded-For` entry.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        // Only the last entry: the proxy appended it; earlier ones are the client's to choose.
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        if last.is_some() {
            return last;
        }
    }
    peer.map(|addr| addr.ip())
}

/// The peer address of a request, when the server was started with connection info.
pub(crate) fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        assert_eq!(
            client_ip(&headers, Some(peer), false),
            Some("10.0.0.2".parse().unwrap())
        );
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            Some("198.51.100.7".parse().unwrap())
        );
    }
}
