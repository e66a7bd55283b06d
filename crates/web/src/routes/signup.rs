//! `POST /v1/auth/register`: making an account under the operator's sign-up mode (the
//! creation step, shared with `POST /v1/admin/users`, is `Service::create_account`).
//!
//! The cheap checks (sign-up mode, email, password shape, invitation) come first; then the
//! registration is counted against the caller's address; then the strength estimate and the
//! argon2 hash run as one job in the bounded password pool; then the user is stored (with the
//! invitation spent in the same transaction).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use service::accounts::NewAccount;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{self, SignupMode};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp};
use crate::routes::accounts::UserResponse;

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
        state.service().check_invite(hash).await?;
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
    let user = state
        .service()
        .create_account(account, invite_hash.as_deref(), || slot.spent())
        .await?;
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
