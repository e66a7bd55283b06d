//! `GET /v1/stream`: live updates as Server-Sent Events. The handler parses the request, opens
//! a connection with the `service::stream` use case (which owns tenancy, resume and bounds)
//! and renders its messages as SSE frames; heartbeats are comment lines while idle.
//!
//! Authentication is the API's own: `Authorization: Bearer <session or API token>`. Tokens are
//! never taken from the URL (URLs end up in proxy and browser logs); a browser reads the
//! stream with `fetch()` and a `ReadableStream`, which can send the header, rather than
//! `EventSource`, which cannot.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use service::stream::{Connection, Message, Topics};
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

/// What to stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Comma-separated: `quotes:<SYMBOL>` (one per symbol), `alerts` and `notifications` (the
    /// caller's own), `signals` (label changes of every symbol) or `signals:<SYMBOL>`; at
    /// most 64.
    #[param(example = "quotes:MSFT,quotes:AAPL,alerts,notifications,signals")]
    topics: String,
    /// Resume after this event id, for clients that cannot send the `Last-Event-ID` header
    /// (the header wins when both are given).
    last_event_id: Option<String>,
}

/// Live updates as Server-Sent Events.
///
/// Events: `quote`, `alert`, `notification` and `signal`, each with `id: <epoch>-<sequence>`
/// and a JSON `data:` line; `reset` when the events since `Last-Event-ID` cannot be replayed
/// (refetch over the REST API; its id is the position now); `closing` as the last message
/// when the server ends the stream (`{"reason":"slow_consumer"|"shutdown"|"revoked","detail":…}`;
/// `revoked`: the token was signed out or deleted, sessions ended by a password change or the
/// account deleted; sign in again). A comment line is sent every 15 s while idle
/// (`stream_heartbeat`), and at that pace each stream checks that its token still lives.
#[utoipa::path(get, path = "/v1/stream", tag = "live",
    security(("bearer" = [])),
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id"),
    ),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "Bad topics or event id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many open streams for this user", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Live updates are not running on this replica, or it is stopping", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_stream(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let hub = state.stream_hub().ok_or_else(|| ApiError::Busy {
        detail: "live updates are not running on this replica; try again shortly".into(),
        retry_after: std::time::Duration::from_secs(5),
    })?;
    let topics = Topics::parse(&query.topics)?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.last_event_id.as_deref());
    let connection = hub.open(&caller, topics, last)?;
    let heartbeat = connection.heartbeat();
    let events = futures_util::stream::unfold(connection, next_event);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response();
    // Proxies that buffer responses (nginx) would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

async fn next_event(mut connection: Connection) -> Option<(Result<Event, Infallible>, Connection)> {
    let message = connection.next().await?;
    Some((Ok(render(message)), connection))
}

/// One message as an SSE frame.
fn render(message: Message) -> Event {
    match message {
        Message::Event { id, kind, data } => {
            Event::default().event(kind.as_str()).id(id).data(&*data)
        }
        Message::Reset { id, reason } => Event::default().event("reset").id(id).data(
            serde_json::json!({
                "reason": reason,
                "detail": "events since your last id cannot be replayed; refetch over the REST API",
            })
            .to_string(),
        ),
        Message::Closing(reason) => Event::default().event("closing").data(
            serde_json::json!({ "reason": reason.as_str(), "detail": reason.detail() }).to_string(),
        ),
    }
}
