//! `/v1/ingest/jobs`: the ingestion queue and its history — what is queued, running, done or
//! failed (with the last error), and counts per status.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use store::{Job, JobCounts, JobFilter, JobStatus};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;

/// The most jobs one call lists.
pub const MAX_JOBS_PER_CALL: u32 = 1_000;

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state: `queued`, `running`, `succeeded` or `failed`.
    #[param(value_type = Option<JobStatusName>, inline)]
    status: Option<String>,
    /// Only jobs of this run, e.g. `daily:2026-11-27`.
    group: Option<String>,
    /// At most this many, newest first (1 to 1000, default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// A job's state as `status` takes it (documentation only: the query is parsed by the store's
/// `JobStatus`).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum JobStatusName {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// One ingest job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobResponse {
    pub id: i64,
    /// `daily` (scheduled), `backfill`, `archive` or `news` (a run of news ingestion).
    pub kind: String,
    /// The run it belongs to.
    pub group: String,
    /// The symbols still to do (a retry keeps only those that failed).
    #[schema(example = json!(["MSFT", "AAPL"]))]
    pub symbols: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    /// When it runs (next); for a queued retry, the end of its backoff.
    pub run_at: DateTime<Utc>,
    /// Until when its worker holds it (running jobs).
    pub lease_until: Option<DateTime<Utc>>,
    pub worker: Option<String>,
    /// Why the last attempt failed; for a success, what was skipped.
    pub last_error: Option<String>,
    /// Bars inserted or changed, over every attempt.
    pub bars_changed: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobResponse {
    fn from(job: Job) -> Self {
        Self {
            id: job.id,
            kind: job.kind.to_string(),
            group: job.group,
            symbols: job.symbols.iter().map(|s| s.as_str().to_owned()).collect(),
            from: job.from,
            to: job.to,
            status: job.status.to_string(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at,
            lease_until: job.lease_until,
            worker: job.worker,
            last_error: job.last_error,
            bars_changed: job.bars_changed,
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

/// Jobs per status (of the group asked for, or of every job).
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCountsResponse {
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl From<JobCounts> for JobCountsResponse {
    fn from(counts: JobCounts) -> Self {
        Self {
            queued: counts.queued,
            running: counts.running,
            succeeded: counts.succeeded,
            failed: counts.failed,
        }
    }
}

/// The queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsResponse {
    pub counts: JobCountsResponse,
    /// Newest first.
    pub jobs: Vec<JobResponse>,
}

/// The ingestion queue: counts per status and the newest jobs, with their last errors.
#[utoipa::path(get, path = "/v1/ingest/jobs", tag = "ingestion",
    params(JobsQuery),
    responses(
        (status = 200, description = "The queue", body = JobsResponse),
        (status = 400, description = "Unknown status or bad limit", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<Json<JobsResponse>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(|text| text.trim().parse::<JobStatus>())
        .transpose()
        .map_err(|_| {
            ApiError::BadRequest("status must be one of queued, running, succeeded, failed".into())
        })?;
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(text) => match text.trim().parse::<u32>() {
            Ok(limit) if (1..=MAX_JOBS_PER_CALL).contains(&limit) => limit,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_JOBS_PER_CALL}"
                )));
            }
        },
    };
    let group = query.group.filter(|g| !g.trim().is_empty());
    let filter = JobFilter {
        status,
        group,
        limit,
    };
    let (counts, jobs) = state.service().jobs(&filter).await?;
    Ok(Json(JobsResponse {
        counts: counts.into(),
        jobs: jobs.into_iter().map(JobResponse::from).collect(),
    }))
}
