//! `/v1/system/instances`: the deployment's running processes, from the heartbeats each
//! records in the store. Any signed-in user may read it (the dashboard's system page shows
//! it to everyone); it names hosts, so it is not public.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use service::instances::GONE_AFTER_BEATS;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, Problem};

/// One process.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceResponse {
    /// Host name, process id and a random part: unique per start.
    #[schema(example = "stockd-api-7c9f-1-3f2a9b1c")]
    pub id: String,
    /// `all`, or its roles joined with `+` (`api`, `worker`, `alerts`).
    pub role: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// Its latest heartbeat.
    pub last_seen: DateTime<Utc>,
    /// Seconds since its latest heartbeat.
    pub last_seen_seconds: u64,
    /// Seconds from its start to its latest heartbeat.
    pub uptime_seconds: u64,
    /// `live`, or `gone` when not seen for more than three heartbeat intervals.
    #[schema(example = "live")]
    pub status: &'static str,
}

/// The instances, most recently started first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstancesResponse {
    pub instances: Vec<InstanceResponse>,
    /// How often each instance records a heartbeat.
    pub heartbeat_seconds: u64,
    /// Silent for longer than this: `gone`.
    pub gone_after_seconds: u64,
}

/// The deployment's running (and recently gone) processes.
#[utoipa::path(get, path = "/v1/system/instances", tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Instances and their last heartbeat", body = InstancesResponse),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_instances(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> Result<Json<InstancesResponse>, ApiError> {
    let every = state.service().settings().heartbeat_every;
    let instances = state.service().list_instances(Utc::now()).await?;
    Ok(Json(InstancesResponse {
        heartbeat_seconds: every.as_secs(),
        gone_after_seconds: (every * GONE_AFTER_BEATS).as_secs(),
        instances: instances
            .into_iter()
            .map(|listed| {
                let i = listed.instance;
                InstanceResponse {
                    uptime_seconds: (i.last_seen - i.started_at).num_seconds().max(0) as u64,
                    status: if listed.gone { "gone" } else { "live" },
                    last_seen_seconds: listed.last_seen_seconds,
                    id: i.id,
                    role: i.role,
                    version: i.version,
                    started_at: i.started_at,
                    last_seen: i.last_seen,
                }
            })
            .collect(),
    }))
}
