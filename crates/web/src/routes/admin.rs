//! `/v1/admin/…`: what an admin does for sign-up. Making users directly (any sign-up mode) and
//! single-use invitation codes for invite-only sign-up. Every route needs an admin: the token
//! of an admin user, or the operator's `admin_token` ([`crate::auth::require_admin`]).
//!
//! An invitation code (`stk_inv_` + 32 random bytes) is shown once, in the answer that made
//! it; only its SHA-256 is stored.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::accounts::NewAccount;
use store::Invite;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::require_admin;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::accounts::UserResponse;

pub use service::accounts::{DEFAULT_INVITE_DAYS, MAX_INVITE_DAYS};

const NO_ADMIN: &str = "managing accounts over HTTP needs an admin: sign in as an admin user or set STOCKD_ADMIN_TOKEN; `stockd users create` and `stockd users invite` work without one";

/// `POST /v1/admin/users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(example = "ada@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// As at registration: 10 to 128 characters, not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    pub display_name: Option<String>,
    /// Make the user an admin.
    #[serde(default)]
    pub is_admin: bool,
}

store::redacted_debug!(CreateUserRequest { email, display_name, is_admin } hiding { password });

/// `POST /v1/admin/invites`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Days the code stays valid, 1 to 90; default 7.
    #[schema(example = 7, minimum = 1, maximum = 90)]
    pub valid_days: Option<u32>,
    /// What it is for, e.g. who it goes to (at most 100 characters).
    pub note: Option<String>,
}

/// An invitation; `code` is present only in the answer that made it.
#[derive(Serialize, ToSchema)]
pub struct InviteResponse {
    pub id: String,
    /// The code to hand to the invitee (`invite` at registration): shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub note: Option<String>,
    /// `usable`, `used` or `expired`.
    #[schema(example = "usable")]
    pub status: &'static str,
    /// The admin user who made it; null for the operator.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The user it made (null once that user is deleted).
    pub used_by: Option<String>,
}

store::redacted_debug!(InviteResponse { id, note, status, created_by, created_at, expires_at, used_at, used_by }
    hiding { code });

/// Every invitation, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitesResponse {
    pub invites: Vec<InviteResponse>,
}

impl InviteResponse {
    fn new(invite: Invite, code: Option<String>, now: DateTime<Utc>) -> Self {
        let status = if invite.used_at.is_some() {
            "used"
        } else if invite.is_usable(now) {
            "usable"
        } else {
            "expired"
        };
        Self {
            id: invite.id,
            code,
            note: invite.note,
            status,
            created_by: invite.created_by,
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            used_at: invite.used_at,
            used_by: invite.used_by,
        }
    }
}

/// Makes a user, whatever the sign-up mode: 201 with the user.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin",
    security(("admin_token" = []), ("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email is registered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The password hashing queue is full; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let admin = require_admin(&state, &headers, NO_ADMIN).await?;
    let account = NewAccount::parse(&body.email, body.password, body.display_name, body.is_admin)?;
    let user = state.service().create_account(account, None, || ()).await?;
    tracing::info!(user_id = %user.id, by = ?admin.user_id(), is_admin = user.is_admin, "user created by an admin");
    Ok((StatusCode::CREATED, Json(UserResponse::from(user))).into_response())
}

/// Makes a single-use invitation code: 201 with the code, shown only now.
#[utoipa::path(post, path = "/v1/admin/invites", tag = "admin",
    security(("admin_token" = []), ("bearer" = [])),
    request_body = CreateInviteRequest,
    responses(
        (status = 201, description = "Created; `code` is shown only now", body = InviteResponse),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateInviteRequest>,
) -> Result<Response, ApiError> {
    let admin = require_admin(&state, &headers, NO_ADMIN).await?;
    let created_by = admin.user_id().map(str::to_owned);
    let (code, invite) = state
        .service()
        .issue_invite(body.valid_days, body.note, created_by)
        .await?;
    tracing::info!(invite_id = %invite.id, by = ?admin.user_id(), "invitation created");
    let body = InviteResponse::new(invite, Some(code), Utc::now());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Every invitation, newest first (never the codes).
#[utoipa::path(get, path = "/v1/admin/invites", tag = "admin",
    security(("admin_token" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The invitations", body = InvitesResponse),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_invites(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<InvitesResponse>, ApiError> {
    require_admin(&state, &headers, NO_ADMIN).await?;
    let now = Utc::now();
    let invites = state.service().invites().await?;
    Ok(Json(InvitesResponse {
        invites: invites
            .into_iter()
            .map(|invite| InviteResponse::new(invite, None, now))
            .collect(),
    }))
}

/// Deletes an invitation (revoking it if unused): 204, or 404 when there is none with this id.
#[utoipa::path(delete, path = "/v1/admin/invites/{id}", tag = "admin",
    security(("admin_token" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No admin token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers, NO_ADMIN).await?;
    state.service().delete_invite(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
