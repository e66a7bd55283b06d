//! `/v1/auth/…` and `/v1/me`: registration, login and logout, the caller's profile, and their
//! personal API tokens. Everything under `/v1/me` is the caller's own: ids of other users'
//! resources answer 404, exactly like ids that do not exist.

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{NewToken, TokenKind, UserUpdate, UserUpdated};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::policy;
use crate::auth::{self, AuthUser};
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::routes::{admin, channels, signup, watchlist};

/// The routes of the `accounts` feature; when it is off, every one of them answers 404
/// `feature-disabled`, whatever the method.
pub(crate) fn routes(enabled: bool) -> Router<AppState> {
    let paths: [(&str, axum::routing::MethodRouter<AppState>); 13] = [
        ("/v1/auth/register", post(signup::register)),
        ("/v1/auth/login", post(login)),
        ("/v1/auth/logout", post(logout)),
        ("/v1/me", get(me).patch(update_me).delete(delete_me)),
        ("/v1/me/tokens", get(list_tokens).post(create_token)),
        ("/v1/me/tokens/{id}", delete(delete_token)),
        ("/v1/me/watchlist", get(watchlist::list_watchlist)),
        (
            "/v1/me/watchlist/{symbol}",
            put(watchlist::watch_symbol).delete(watchlist::unwatch_symbol),
        ),
        (
            "/v1/me/channels",
            get(channels::list_channels).post(channels::create_channel),
        ),
        (
            "/v1/me/channels/{id}",
            get(channels::get_channel)
                .put(channels::replace_channel)
                .delete(channels::delete_channel),
        ),
        ("/v1/admin/users", post(admin::create_user)),
        (
            "/v1/admin/invites",
            get(admin::list_invites).post(admin::create_invite),
        ),
        ("/v1/admin/invites/{id}", delete(admin::delete_invite)),
    ];
    crate::features::feature_routes("accounts", enabled, paths)
}

/// `Json<T>` whose rejections are problem+json: 400 for malformed JSON, 415 for a body not
/// sent as `application/json`, 422 naming the field for a body of the wrong shape, including a
/// body that is not a JSON object (serde would read a struct from an array of its fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::Unprocessable(
                "invalid body: expected a JSON object ({…})".into(),
            ));
        }
        // Read again from text so serde's error names the field's path (`channels[0]: …`), as
        // axum's own rejection does; bodies are small.
        let text = serde_json::to_vec(&value)
            .map_err(|_| ApiError::Internal("a JSON body could not be written back"))?;
        let Json(body) = Json::<T>::from_bytes(&text)?;
        Ok(Self(body))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(err) => {
                Self::Unprocessable(format!("invalid body: {}", err.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            other => Self::BadRequest(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

/// The client address of a request (see [`auth::AuthSettings::trust_forwarded_for`]).
#[derive(Debug)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(auth::client_ip(
            &parts.headers,
            auth::peer(&parts.extensions),
            state.auth().trust_forwarded_for,
        )))
    }
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(example = "0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f")]
    pub id: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<store::User> for UserResponse {
    fn from(user: store::User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            is_admin: user.is_admin,
            created_at: user.created_at,
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

store::redacted_debug!(LoginRequest { email } hiding { password });

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    pub expires_at: Option<DateTime<Utc>>,
    pub user: UserResponse,
}

store::redacted_debug!(LoginResponse { token_type, expires_at, user } hiding { access_token });

/// `PATCH /v1/me`: changing the email or the password needs the current password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// A new display name; `null` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// A new password: 10 to 128 characters, not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
    pub current_password: Option<String>,
}

store::redacted_debug!(UpdateMeRequest { display_name, email } hiding { password, current_password });

/// `null` and absent told apart: `Some(None)` is an explicit `null`.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// `POST /v1/me/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, e.g. `backup script`.
    pub name: Option<String>,
}

/// A personal API token; `token` is present only in the answer that created it.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The token itself: shown once, stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

store::redacted_debug!(TokenResponse { id, name, created_at } hiding { token });

/// The caller's API tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensResponse {
    pub tokens: Vec<TokenResponse>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Lowercased, trimmed email, or 422 naming `field`.
pub(crate) fn normalize_email(text: &str, field: &str) -> Result<String, ApiError> {
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
        Err(ApiError::Unprocessable(format!(
            "{field}: not an email address (expected name@example.com)"
        )))
    }
}

pub(crate) fn clean_name(name: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::Unprocessable(format!(
            "{field}: must be at most 100 characters"
        )));
    }
    Ok(name)
}

/// Signs in: a session token for `Authorization: Bearer`, valid for 30 days (fixed, not
/// sliding) or until logout. Failed logins are limited per account and address, per address,
/// and (from addresses the account never signed in from) per account.
#[utoipa::path(post, path = "/v1/auth/login", tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Unknown email or wrong password (one answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this account from this address, from this address, or for this account; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The password hashing queue is full; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let account = body.email.trim().to_lowercase();
    // Counted before the password is checked: concurrent guesses cannot all pass the limit.
    let attempt = state.login_limiter().begin(&account, ip).map_err(|wait| {
        metrics::counter!("stock_api_auth_throttled_total", "reason" => "login_limit").increment(1);
        ApiError::TooManyRequests {
            detail: format!(
                "too many failed logins for this account or from this address; try again in {}s",
                wait.as_secs().max(1)
            ),
            retry_after: wait,
        }
    })?;
    let store = state.market().store();
    let user = store.user_by_email(&account).await?;
    // An unknown email is checked against a dummy hash of the same cost: the answer and its
    // timing are the same as for a wrong password.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = state.auth().hasher.verify(body.password, stored).await?;
    let Some(user) = user.filter(|_| ok) else {
        attempt.failed();
        tracing::info!(client_ip = ?ip, "login failed");
        return Err(ApiError::Unauthorized(
            "the email or the password is wrong".into(),
        ));
    };
    attempt.succeeded();
    let token = auth::new_token(auth::SESSION_PREFIX)?;
    let now = Utc::now();
    let expires_at = chrono::Duration::from_std(state.auth().session_ttl)
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
    Ok(Json(LoginResponse {
        access_token: token,
        token_type: "Bearer",
        expires_at,
        user: user.into(),
    }))
}

/// Revokes the bearer token of this request (a session, or an API token used here): 204.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token is revoked"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<StatusCode, ApiError> {
    state
        .market()
        .store()
        .delete_token(&caller.user.id, &caller.token.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(caller: AuthUser) -> Json<UserResponse> {
    Json(caller.user.into())
}

/// Changes the display name, email or password. The email and the password need
/// `current_password`; a new password signs out every other session.
#[utoipa::path(patch, path = "/v1/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = UserResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "current_password missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new email belongs to another account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail), e.g. a new password that is too short or too easy to guess", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The password hashing queue is full; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let email = body
        .email
        .as_deref()
        .map(|e| normalize_email(e, "email"))
        .transpose()?;
    if let Some(password) = &body.password {
        policy::check_shape(password, "password").map_err(ApiError::Unprocessable)?;
    }
    let display_name = body
        .display_name
        .map(|name| clean_name(name, "display_name"))
        .transpose()?;
    let sensitive = email.is_some() || body.password.is_some();
    if sensitive {
        let current = body.current_password.ok_or_else(|| {
            ApiError::Forbidden(
                "current_password: changing the email or the password needs the current password"
                    .into(),
            )
        })?;
        let ok = state
            .auth()
            .hasher
            .verify(current, Some(caller.user.password_hash.clone()))
            .await?;
        if !ok {
            return Err(ApiError::Forbidden(
                "current_password: the current password is wrong".into(),
            ));
        }
    }
    let password_hash = match body.password {
        Some(password) => {
            // Judged against the email and name the account will have after this change.
            let email = email.clone().unwrap_or_else(|| caller.user.email.clone());
            let name = match &display_name {
                Some(name) => name.clone(),
                None => caller.user.display_name.clone(),
            };
            let hasher = &state.auth().hasher;
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
    let store = state.market().store();
    let user = match store
        .update_user(&caller.user.id, &update, Utc::now())
        .await?
    {
        UserUpdated::Updated(user) => user,
        UserUpdated::EmailTaken => {
            return Err(ApiError::Conflict(
                "email: another account has this email".into(),
            ));
        }
        UserUpdated::NotFound => {
            return Err(ApiError::Unauthorized(
                "the bearer token is not valid (unknown, revoked or expired); sign in again".into(),
            ));
        }
    };
    if password_changed {
        // Whoever knew the old password may hold a session: end every session but this one.
        for session in store.tokens(&user.id, TokenKind::Session).await? {
            if session.id != caller.token.id {
                store.delete_token(&user.id, &session.id).await?;
            }
        }
    }
    Ok(Json(user.into()))
}

/// Deletes the caller's account and everything it owns (sessions, tokens, watchlist,
/// channels, and later alerts): 204.
#[utoipa::path(delete, path = "/v1/me", tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_me(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<StatusCode, ApiError> {
    state.market().store().delete_user(&caller.user.id).await?;
    tracing::info!(user_id = %caller.user.id, "user deleted their account");
    Ok(StatusCode::NO_CONTENT)
}

fn token_response(token: store::AuthToken, secret: Option<String>) -> TokenResponse {
    TokenResponse {
        id: token.id,
        name: token.name,
        created_at: token.created_at,
        token: secret,
    }
}

/// Creates a personal API token (prefix `stk_api_`) for scripts: the answer shows it once; only
/// its hash is kept. It lives until deleted.
#[utoipa::path(post, path = "/v1/me/tokens", tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = TokenResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller has `max_tokens_per_user` API tokens already (type `cap-reached`; the detail names the cap)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    let name = clean_name(body.name, "name")?;
    let token = auth::new_token(auth::API_TOKEN_PREFIX)?;
    let cap = crate::limits::UserCaps::of(state.config().limits.per_user.tokens);
    let created = state
        .market()
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
        return Err(ApiError::CapReached {
            setting: "max_tokens_per_user",
            cap,
            detail: format!(
                "you have {cap} API tokens, the most one account may; delete one you no longer use (DELETE /v1/me/tokens/{{id}})"
            ),
        });
    };
    Ok((
        StatusCode::CREATED,
        Json(token_response(stored, Some(token))),
    )
        .into_response())
}

/// The caller's API tokens, oldest first (never the tokens themselves).
#[utoipa::path(get, path = "/v1/me/tokens", tag = "accounts",
    security(("bearer" = [])),
    params(crate::routes::page::PageQuery),
    responses(
        (status = 200, description = "The caller's API tokens", body = TokensResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: AuthUser,
    crate::extract::ApiQuery(page): crate::extract::ApiQuery<crate::routes::page::PageQuery>,
) -> Result<Json<TokensResponse>, ApiError> {
    use crate::routes::page::{cut, time_key};
    let limit = page.limit()?;
    let after = page.after::<String>("tokens")?;
    let rows = state
        .market()
        .store()
        .api_tokens_page(&caller.user.id, after.as_ref(), limit + 1)
        .await?;
    let (rows, next_cursor) = cut(rows, limit, "tokens", |t| time_key(t.created_at, &t.id));
    Ok(Json(TokensResponse {
        tokens: rows.into_iter().map(|t| token_response(t, None)).collect(),
        next_cursor,
    }))
}

/// Deletes one of the caller's API tokens: 204, or 404 when the caller has none with this id.
#[utoipa::path(delete, path = "/v1/me/tokens/{id}", tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_token(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.market().store();
    // Sessions are ended by logout, not here: only API tokens are listed, so only they delete.
    let owned = store
        .tokens(&caller.user.id, TokenKind::Api)
        .await?
        .iter()
        .any(|t| t.id == id);
    if owned && store.delete_token(&caller.user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "you have no API token with this id".into(),
        ))
    }
}
/// Checks an email and a new password as registration does (shape and strength): the
/// normalised email, or what is wrong (for `stockd users create`).
pub fn check_new_credentials(
    email: &str,
    password: &str,
    display_name: Option<&str>,
) -> Result<String, String> {
    let email = normalize_email(email, "email").map_err(|err| err.status_and_detail().1)?;
    policy::check_new_password(password, &email, display_name, "password")?;
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_password_or_token() {
        let secret = "correct horse battery staple 42";
        let login = LoginRequest {
            email: "ada@example.com".into(),
            password: secret.into(),
        };
        let update = UpdateMeRequest {
            display_name: None,
            email: None,
            password: Some(secret.into()),
            current_password: Some(secret.into()),
        };
        let token = TokenResponse {
            id: "t1".into(),
            name: None,
            created_at: Utc::now(),
            token: Some(secret.into()),
        };
        let register = crate::routes::signup::RegisterRequest {
            email: "ada@example.com".into(),
            password: secret.into(),
            display_name: None,
            invite: Some(secret.into()),
        };
        let created = crate::routes::admin::CreateUserRequest {
            email: "ada@example.com".into(),
            password: secret.into(),
            display_name: None,
            is_admin: false,
        };
        let debug = format!("{login:?} {update:?} {token:?} {register:?} {created:?}");
        assert!(debug.contains("ada@example.com"), "{debug}");
        assert!(!debug.contains(secret), "{debug}");
    }
}
