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
use domain::{UnknownName, WebhookFormat};
use secrecy::ExposeSecret;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use service::channels::ChannelSpec;
use store::ChannelTarget;
use utoipa::ToSchema;

use super::page::{cut, time_key};
use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageQuery};

/// The webhook formats as the document shows them (the body is read as
/// [`domain::WebhookFormat`], whose names these are).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum WebhookFormatName {
    Generic,
    Slack,
    Discord,
}

/// A channel to create (or to replace one with). `Debug` shows no secret nor webhook path.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelRequest {
    /// A JSON POST to `url` (http or https, a public host; international names are taken),
    /// signed with HMAC-SHA256 over the body using `secret`.
    Webhook {
        #[schema(
            example = "https://hooks.example.com/stockd",
            format = "iri",
            max_length = 2048,
            pattern = "^https?://"
        )]
        url: String,
        /// 16 to 256 characters; generated (and shown once) when absent.
        #[schema(min_length = 16, max_length = 256)]
        secret: Option<String>,
        /// `generic` (default), `slack` or `discord`; any other is refused (422).
        #[serde(default, deserialize_with = "webhook_format")]
        #[schema(value_type = Option<WebhookFormatName>, inline)]
        format: Option<WebhookFormat>,
    },
    Email {
        #[schema(example = "ada@example.com", format = Email, max_length = 254)]
        address: String,
    },
    /// An E.164 phone number.
    Sms {
        #[schema(example = "+15551234567", pattern = r"^\+[1-9][0-9]{7,14}$")]
        phone: String,
    },
}

/// A webhook format by name, refused with the field's name and the known names: inside the
/// `kind`-tagged request serde's own error would name neither.
fn webhook_format<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<WebhookFormat>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|name| {
            name.parse()
                .map_err(|err: UnknownName| D::Error::custom(format!("format: {err}")))
        })
        .transpose()
}

impl std::fmt::Debug for ChannelRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As the spec it becomes shows itself.
        ChannelSpec::from(self.clone()).fmt(f)
    }
}

/// A channel as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ChannelResponse {
    pub id: String,
    /// `webhook`, `email` or `sms` (as stored, for a channel this server cannot read).
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// The webhook secret: present only in the answer that created or replaced the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Present when the stored channel cannot be read by this server (a kind or webhook format
    /// it does not know): nothing is sent to it, and its notifications fail, until it is
    /// replaced (`PUT`) or deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

// The URL too: a webhook's path is often a credential (Slack, Discord).
store::redacted_debug!(ChannelResponse { id, kind, format, address, phone, error, created_at }
    hiding { url, secret });

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
        kind: String::new(),
        url: None,
        format: None,
        secret: None,
        address: None,
        phone: None,
        error: None,
        created_at: channel.created_at,
    };
    let target = match channel.target {
        Ok(target) => target,
        Err(unreadable) => {
            out.kind = unreadable.kind;
            out.error = Some(format!(
                "this server cannot read the stored channel ({}); replace it (PUT /v1/me/channels/{}) or delete it",
                unreadable.reason, out.id
            ));
            return out;
        }
    };
    out.kind = target.kind().as_str().to_owned();
    match target {
        ChannelTarget::Webhook {
            url,
            secret,
            format,
        } => {
            out.url = Some(url);
            out.format = Some(format.as_str());
            out.secret = show_secret.then(|| secret.expose_secret().to_owned());
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

/// What a test send came to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"channel_id": "0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f", "kind": "webhook",
    "delivered": false, "status": 503, "permanent": false,
    "error": "webhook hooks.example.com answered 503 Service Unavailable: down for maintenance",
    "at": "2026-12-03T21:05:00Z", "duration_ms": 143}))]
pub struct ChannelTestResponse {
    pub channel_id: String,
    /// `webhook`, `email` or `sms`.
    pub kind: &'static str,
    /// Whether the receiver accepted the test notification.
    pub delivered: bool,
    /// The receiver's HTTP status when it answered with a failure (webhooks, Twilio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it was not delivered: the receiver's answer or the transport error, naming the
    /// host only (never the full webhook URL nor a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a failure: `true` when trying again cannot help (the receiver refused with a 4xx,
    /// the destination is not allowed, this kind of channel is not configured here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent: Option<bool>,
    /// The provider's message id (Twilio's `sid`, the email `Message-ID`), when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
}

impl From<service::channels::TestOutcome> for ChannelTestResponse {
    fn from(outcome: service::channels::TestOutcome) -> Self {
        Self {
            channel_id: outcome.channel_id,
            kind: outcome.kind.as_str(),
            delivered: outcome.delivered,
            status: outcome.status,
            error: outcome.error,
            permanent: outcome.permanent,
            provider_message_id: outcome.provider_message_id,
            at: outcome.at,
            duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Sends a test notification through one of the caller's channels, now, and answers what came
/// of it: 200 whether or not the receiver accepted it (`delivered`, and `status` / `error`
/// saying why not). The same senders, signature and destination checks as alerts; no alert
/// fires and nothing is retried. The payload is an alert notice with `rule_id` 0, symbol
/// `TEST` and source `test`. At most 3 tests per channel per minute (429 past it).
#[utoipa::path(post, path = "/v1/me/channels/{id}/test", tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The test was sent; `delivered` says whether the receiver accepted it", body = ChannelTestResponse,
            examples(
                ("delivered" = (summary = "The receiver accepted it", value = json!({
                    "channel_id": "0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f", "kind": "webhook",
                    "delivered": true, "at": "2026-12-03T21:05:00Z", "duration_ms": 87}))),
                ("refused" = (summary = "The receiver answered 404", value = json!({
                    "channel_id": "0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f", "kind": "webhook",
                    "delivered": false, "status": 404, "permanent": true,
                    "error": "webhook hooks.example.com answered 404 Not Found",
                    "at": "2026-12-03T21:05:00Z", "duration_ms": 52}))),
                ("not_configured" = (summary = "Email is not set up on this server", value = json!({
                    "channel_id": "0192f5c4-7d1e-7a10-9b8e-3f2a1c0d4e5f", "kind": "email",
                    "delivered": false, "permanent": true,
                    "error": "email channels are not configured on this server",
                    "at": "2026-12-03T21:05:00Z", "duration_ms": 0}))),
            )),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such channel of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The stored channel cannot be read by this server; replace or delete it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This channel was tested 3 times in the last minute (`Retry-After` says when to try again)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn test_channel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChannelTestResponse>, ApiError> {
    let outcome = state.service().test_channel(&caller, &id).await?;
    Ok(Json(outcome.into()))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn debug_shows_neither_a_secret_nor_a_webhook_path() {
        let secret = "whsec_never_in_debug_0123";
        let request = ChannelRequest::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/pathsecret".into(),
            secret: Some(secret.into()),
            format: Some(WebhookFormat::Slack),
        };
        let channel = store::Channel {
            id: "c1".into(),
            user_id: "u1".into(),
            target: Ok(ChannelTarget::Webhook {
                url: "https://hooks.slack.com/services/T0/B0/pathsecret".into(),
                secret: SecretString::from(secret),
                format: WebhookFormat::Slack,
            }),
            created_at: Utc::now(),
        };
        let debug = format!(
            "{request:?} {channel:?} {:?}",
            response(channel.clone(), true)
        );
        assert!(debug.contains("hooks.slack.com"), "{debug}");
        assert!(
            !debug.contains(secret) && !debug.contains("pathsecret"),
            "{debug}"
        );
    }

    #[test]
    fn a_stored_channel_this_server_cannot_read_is_shown_with_what_to_do() {
        let channel = store::Channel {
            id: "c1".into(),
            user_id: "u1".into(),
            target: Err(store::UnreadableTarget {
                kind: "webhook".into(),
                reason: "unknown webhook format 'teams' (expected one of: generic, slack, discord)"
                    .into(),
            }),
            created_at: Utc::now(),
        };
        let shown = serde_json::to_value(response(channel, true)).unwrap();
        assert_eq!(shown["kind"], "webhook");
        let error = shown["error"].as_str().unwrap();
        assert!(error.contains("'teams'"), "{error}");
        assert!(error.contains("PUT /v1/me/channels/c1"), "{error}");
        for absent in ["url", "format", "secret"] {
            assert!(shown.get(absent).is_none(), "{shown}");
        }
    }
}
