//! `/v1/me/channels`: where the caller's notifications go (a webhook, an email address, a
//! phone number for SMS). Each is the caller's own; another user's channel id answers 404.
//!
//! A webhook's signing secret is generated when none is given and shown once, in the answer
//! that created (or replaced) the channel; the API never returns it again. The checks and the
//! store calls are `service::channels`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::channels::ChannelSpec;
use store::ChannelTarget;
use utoipa::ToSchema;

use super::page::{cut, time_key};
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageQuery};

/// A channel to create (or to replace one with).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelRequest {
    /// A JSON POST to `url`, signed with HMAC-SHA256 over the body using `secret`.
    Webhook {
        #[schema(example = "https://hooks.example.com/stockd")]
        url: String,
        /// 16 to 256 characters; generated (and shown once) when absent.
        secret: Option<String>,
        /// `generic` (default), `slack` or `discord`.
        format: Option<String>,
    },
    Email {
        #[schema(example = "ada@example.com")]
        address: String,
    },
    /// An E.164 phone number.
    Sms {
        #[schema(example = "+15551234567")]
        phone: String,
    },
}

/// A channel as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelResponse {
    pub id: String,
    /// `webhook`, `email` or `sms`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The webhook secret: present only in the answer that created or replaced the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The caller's channels, oldest first, a page at a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelsResponse {
    pub channels: Vec<ChannelResponse>,
    /// The `cursor` of the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

fn response(channel: store::Channel, show_secret: bool) -> ChannelResponse {
    let mut out = ChannelResponse {
        id: channel.id,
        kind: channel.target.kind(),
        url: None,
        format: None,
        secret: None,
        address: None,
        phone: None,
        created_at: channel.created_at,
    };
    match channel.target {
        ChannelTarget::Webhook {
            url,
            secret,
            format,
        } => {
            out.url = Some(url);
            out.format = Some(format);
            out.secret = show_secret.then_some(secret);
        }
        ChannelTarget::Email { address } => out.address = Some(address),
        ChannelTarget::Sms { phone } => out.phone = Some(phone),
    }
    out
}

impl From<ChannelRequest> for ChannelSpec {
    fn from(request: ChannelRequest) -> Self {
        match request {
            ChannelRequest::Webhook {
                url,
                secret,
                format,
            } => Self::Webhook {
                url,
                secret,
                format,
            },
            ChannelRequest::Email { address } => Self::Email { address },
            ChannelRequest::Sms { phone } => Self::Sms { phone },
        }
    }
}

/// Adds a channel: 201. A webhook's secret is in this answer only.
#[utoipa::path(post, path = "/v1/me/channels", tag = "accounts",
    security(("bearer" = [])),
    request_body = ChannelRequest,
    responses(
        (status = 201, description = "Created; a webhook's `secret` is shown only now", body = ChannelResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller has `max_channels_per_user` channels already (type `cap-reached`; the detail names the cap)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail): URL, scheme, email, phone, format, secret", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_channel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<ChannelRequest>,
) -> Result<Response, ApiError> {
    let channel = state.service().create_channel(&caller, body.into()).await?;
    Ok((StatusCode::CREATED, Json(response(channel, true))).into_response())
}

/// The caller's channels, oldest first (webhook secrets left out).
#[utoipa::path(get, path = "/v1/me/channels", tag = "accounts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's channels", body = ChannelsResponse),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_channels(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<ChannelsResponse>, ApiError> {
    let limit = page.limit()?;
    let after = page.after::<String>("channels")?;
    let rows = state
        .service()
        .channels(&caller, after.as_ref(), limit + 1)
        .await?;
    let (rows, next_cursor) = cut(rows, limit, "channels", |c| time_key(c.created_at, &c.id));
    Ok(Json(ChannelsResponse {
        channels: rows.into_iter().map(|c| response(c, false)).collect(),
        next_cursor,
    }))
}

/// One of the caller's channels.
#[utoipa::path(get, path = "/v1/me/channels/{id}", tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = ChannelResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_channel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChannelResponse>, ApiError> {
    let channel = state.service().channel(&caller, &id).await?;
    Ok(Json(response(channel, false)))
}

/// Replaces one of the caller's channels (same body as creating one). A webhook keeps its
/// secret when none is given; a new or generated secret is shown in this answer only.
#[utoipa::path(put, path = "/v1/me/channels/{id}", tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Channel id")),
    request_body = ChannelRequest,
    responses(
        (status = 200, description = "Replaced", body = ChannelResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_channel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChannelRequest>,
) -> Result<Json<ChannelResponse>, ApiError> {
    let saved = state
        .service()
        .replace_channel(&caller, &id, body.into())
        .await?;
    Ok(Json(response(saved.channel, saved.new_secret)))
}

/// Deletes one of the caller's channels: 204, or 404.
#[utoipa::path(delete, path = "/v1/me/channels/{id}", tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Channel id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel of the caller's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_channel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.service().delete_channel(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
