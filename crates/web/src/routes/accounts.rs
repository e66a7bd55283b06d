//! `/v1/auth/…` and `/v1/me`: registration, login and logout, the caller's profile, and their
//! personal API tokens. Everything under `/v1/me` is the caller's own: ids of other users'
//! resources answer 404, exactly like ids that do not exist.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::accounts::ProfileChange;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ClientIp};

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
    let user = state
        .service()
        .check_credentials(&account, body.password)
        .await?;
    let Some(user) = user else {
        attempt.failed();
        tracing::info!(client_ip = ?ip, "login failed");
        return Err(ApiError::Unauthorized(
            "the email or the password is wrong".into(),
        ));
    };
    attempt.succeeded();
    let session = state.service().start_session(user).await?;
    Ok(Json(LoginResponse {
        access_token: session.token,
        token_type: "Bearer",
        expires_at: session.expires_at,
        user: session.user.into(),
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
    state.service().sign_out(&caller).await?;
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
    let change = ProfileChange {
        display_name: body.display_name,
        email: body.email,
        password: body.password,
        current_password: body.current_password,
    };
    let user = state.service().update_profile(&caller, change).await?;
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
    state.service().delete_account(&caller).await?;
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
    let (stored, token) = state.service().create_api_token(&caller, body.name).await?;
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
        .service()
        .api_tokens(&caller, after.as_ref(), limit + 1)
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
    state.service().delete_api_token(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
