//! Authentication: argon2id password hashes in a bounded pool, the new-password policy, opaque
//! bearer tokens, the [`AuthUser`] extractor, the admin check, the sign-up mode, and the login
//! and registration rate limiters.
//!
//! Tokens are 32 random bytes, base64url, behind a greppable prefix (`stk_sess_` for sessions,
//! `stk_api_` for personal API tokens). Only their SHA-256 is stored, so a database leak does
//! not hand out working tokens; a token is found by looking its hash up (an index lookup, no
//! byte-by-byte comparison of secrets). Sessions expire a fixed [`AuthSettings::session_ttl`]
//! after login (not sliding: a stolen session dies on schedule however much it is used) and
//! are revoked by logout; API tokens live until deleted.

mod admin;
mod limiter;
mod password;
pub mod policy;
mod signup;
mod windows;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

pub use admin::Admin;
pub(crate) use admin::require_admin;
pub use limiter::{LoginAttempt, LoginLimiter, LoginLimits};
pub use password::{HashPoolSize, PasswordHasher, hash_password_blocking};
pub use signup::{SIGNUP_WINDOW, SignupLimiter, SignupMode, SignupSlot};

/// Prefix of session tokens.
pub const SESSION_PREFIX: &str = "stk_sess_";
/// Prefix of personal API tokens.
pub const API_TOKEN_PREFIX: &str = "stk_api_";
/// Prefix of invitation codes.
pub const INVITE_PREFIX: &str = "stk_inv_";

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

/// A new random token with `prefix`: 32 bytes from the OS, base64url.
pub fn new_token(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::Internal("the OS gave no random bytes"))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// The signed-in user of a request: `Authorization: Bearer <session or API token>`. Rejects
/// with 401 problem+json (and `WWW-Authenticate: Bearer`) when the token is missing, unknown,
/// revoked or expired, with one message for all of them.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: store::User,
    pub token: store::AuthToken,
}

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
    if !(token.starts_with(SESSION_PREFIX) || token.starts_with(API_TOKEN_PREFIX)) {
        return Ok(None);
    }
    let found = state
        .market()
        .store()
        .token_by_hash(&token_hash(token), Utc::now())
        .await?;
    Ok(found.map(|(token, user)| AuthUser { user, token }))
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
    fn tokens_are_prefixed_random_and_hashed_to_hex() {
        let a = new_token(API_TOKEN_PREFIX).unwrap();
        let b = new_token(API_TOKEN_PREFIX).unwrap();
        assert!(a.starts_with("stk_api_"));
        assert_eq!(a.len(), "stk_api_".len() + 43);
        assert_ne!(a, b);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token_hash(&b));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

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
