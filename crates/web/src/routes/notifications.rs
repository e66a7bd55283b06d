//! `/v1/notifications`: the caller's delivery log. One notification per (alert event, channel),
//! with where its delivery stands, and every attempt the dispatchers made. Read-only: the
//! dispatcher writes it; another user's notification answers 404.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::page::{PageQuery, cut, time_key};
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery};

/// One notification and where its delivery stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: String,
    /// The alert event it tells about.
    pub event_id: String,
    pub channel_id: String,
    /// Sent with every attempt (`Idempotency-Key`), so the receiver can drop repeats.
    pub idempotency_key: String,
    /// `pending`, `sending`, `delivered` or `failed`.
    #[schema(example = "delivered")]
    pub status: String,
    pub attempts: u32,
    /// When a pending notification is tried (again).
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The receiver's id for the message (Twilio SID, SMTP queue id), when it gave one.
    pub provider_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The caller's notifications, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationsResponse {
    pub notifications: Vec<NotificationResponse>,
    /// The `cursor` of the next (older) page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    pub attempt: u32,
    pub attempted_at: DateTime<Utc>,
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
    pub error: Option<String>,
    pub provider_message_id: Option<String>,
}

/// The attempts of one notification, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptsResponse {
    pub notification_id: String,
    pub attempts: Vec<AttemptResponse>,
}

/// The caller's delivery log, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "alerts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's notifications", body = NotificationsResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<NotificationsResponse>, ApiError> {
    let limit = page.limit()?;
    let before = page.after::<String>("notifications")?;
    let rows = state
        .service()
        .notifications(&caller, before.as_ref(), limit + 1)
        .await?;
    let (notifications, next_cursor) = cut(rows, limit, "notifications", |n| {
        time_key(n.created_at, &n.id)
    });
    Ok(Json(NotificationsResponse {
        next_cursor,
        notifications: notifications
            .into_iter()
            .map(|n| NotificationResponse {
                id: n.id,
                event_id: n.event_id,
                channel_id: n.channel_id,
                idempotency_key: n.idempotency_key,
                status: n.status.as_str().to_owned(),
                attempts: n.attempts,
                next_attempt_at: n.next_attempt_at,
                last_error: n.last_error,
                provider_message_id: n.provider_message_id,
                created_at: n.created_at,
                updated_at: n.updated_at,
                delivered_at: n.delivered_at,
            })
            .collect(),
    }))
}

/// Every delivery attempt of one of the caller's notifications.
#[utoipa::path(get, path = "/v1/notifications/{id}/attempts", tag = "alerts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The attempts, oldest first", body = AttemptsResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AttemptsResponse>, ApiError> {
    let attempts = state.service().delivery_attempts(&caller, &id).await?;
    Ok(Json(AttemptsResponse {
        notification_id: id,
        attempts: attempts
            .into_iter()
            .map(|a| AttemptResponse {
                attempt: a.attempt,
                attempted_at: a.attempted_at,
                outcome: a.outcome,
                error: a.error,
                provider_message_id: a.provider_message_id,
            })
            .collect(),
    }))
}
