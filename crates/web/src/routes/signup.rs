//! Making accounts: `POST /v1/auth/register` under the operator's sign-up mode, and the one
//! account-creation step it shares with the admin route (`POST /v1/admin/users`).
//!
//! The cheap checks (sign-up mode, email, password shape, invitation) come first; then the
//! registration is counted against the caller's address; then the strength estimate and the
//! argon2 hash run as one job in the bounded password pool; then the user is stored (with the
//! invitation spent in the same transaction).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use store::{InvitedSignup, NewUser};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{self, SignupMode, SignupSlot, policy};
use crate::error::{ApiError, Problem};
use crate::routes::accounts::{ApiJson, ClientIp, UserResponse, clean_name, normalize_email};

/// `POST /v1/auth/register`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 10 to 128 characters, not easy to guess (checked with zxcvbn against common passwords,
    /// words, patterns and the email itself).
    #[schema(example = "plum orbit lantern fjord")]
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub display_name: Option<String>,
    /// The invitation code (`stk_inv_…`) an admin made; needed when sign-up is invite-only,
    /// ignored when it is open.
    pub invite: Option<String>,
}

store::redacted_debug!(RegisterRequest { email, display_name } hiding { password, invite });

/// A new account's checked fields: the email normalised, the password's shape checked (its
/// strength is estimated with the hashing), the display name cleaned.
pub(crate) struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
}

store::redacted_debug!(NewAccount { email, display_name, is_admin } hiding { password });

impl NewAccount {
    /// 422 naming the field when one is invalid.
    pub(crate) fn parse(
        email: &str,
        password: String,
        display_name: Option<String>,
        is_admin: bool,
    ) -> Result<Self, ApiError> {
        let email = normalize_email(email, "email")?;
        policy::check_shape(&password, "password").map_err(ApiError::Unprocessable)?;
        let display_name = clean_name(display_name, "display_name")?;
        Ok(Self {
            email,
            password,
            display_name,
            is_admin,
        })
    }
}

/// Estimates the password's strength and hashes it (one pool job), then stores the user,
/// spending the invitation with this code hash in the same transaction when one is given.
/// `slot` stays counted once a hash was spent.
pub(crate) async fn create_account(
    state: &AppState,
    account: NewAccount,
    invite_hash: Option<&str>,
    slot: Option<SignupSlot<'_>>,
) -> Result<store::User, ApiError> {
    let password_hash = state
        .auth()
        .hasher
        .hash_new(
            account.password,
            account.email.clone(),
            account.display_name.clone(),
            "password",
        )
        .await?;
    if let Some(slot) = slot {
        slot.spent();
    }
    let new = NewUser {
        email: account.email,
        display_name: account.display_name,
        password_hash,
        is_admin: account.is_admin,
    };
    let taken = || {
        ApiError::Conflict(
            "email: an account with this email exists already; sign in instead".into(),
        )
    };
    let store = state.market().store();
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

fn invite_unusable() -> ApiError {
    ApiError::Forbidden(
        "invite: this invitation code is unknown, used or expired; ask an administrator for a new one"
            .into(),
    )
}

/// Creates an account: 201 with the user; sign in with `POST /v1/auth/login`. Whether anyone
/// may register, only holders of an invitation, or nobody is the operator's `signup` setting.
#[utoipa::path(post, path = "/v1/auth/register", tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = UserResponse),
        (status = 403, description = "Sign-up is closed, or invite-only and the invitation is missing, unknown, used or expired", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is registered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email, or a password that is too short, too long, has control characters or is too easy to guess (the detail names the field and says why)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address in the last hour; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The password hashing queue is full; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let invite_hash = match state.auth().signup {
        SignupMode::Closed => {
            return Err(ApiError::Forbidden(
                "sign-up is closed on this server: an administrator makes accounts (`stockd users create`, or POST /v1/admin/users)".into(),
            ));
        }
        SignupMode::Open => None,
        SignupMode::Invite => Some(invite_hash(body.invite.as_deref())?),
    };
    let account = NewAccount::parse(&body.email, body.password, body.display_name, false)?;
    if let Some(hash) = &invite_hash {
        let store = state.market().store();
        if store.usable_invite(hash, Utc::now()).await?.is_none() {
            return Err(invite_unusable());
        }
    }
    let slot = state.signup_limiter().begin(ip).map_err(|wait| {
        metrics::counter!("stock_api_auth_throttled_total", "reason" => "signup_limit")
            .increment(1);
        ApiError::TooManyRequests {
            detail: format!(
                "too many registrations from this address in the last hour; try again in {}s",
                wait.as_secs().max(1)
            ),
            retry_after: wait,
        }
    })?;
    let user = create_account(&state, account, invite_hash.as_deref(), Some(slot)).await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok((StatusCode::CREATED, Json(UserResponse::from(user))).into_response())
}

/// The stored hash of the request's invitation code; 403 when there is none.
fn invite_hash(code: Option<&str>) -> Result<String, ApiError> {
    let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
        ApiError::Forbidden(
            "invite: sign-up on this server needs an invitation; send the code an administrator gave you as `invite`".into(),
        )
    })?;
    Ok(auth::token_hash(code))
}
