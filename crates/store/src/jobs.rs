//! The ingestion job queue: what to fetch (or archive), who is doing it, and how it ended.
//!
//! A job is a batch of symbols with an optional date range. Enqueueing is idempotent on a
//! dedupe key (the scheduler of every replica, or a backfill started twice, enqueues the same
//! work once). A worker claims the oldest due job under a lease and renews it while it works; a
//! job whose worker died is reclaimed once its lease has passed, and failed for good when no
//! attempts are left. Every outcome is recorded on the row, so the queue is also the history
//! `GET /v1/ingest/jobs` and `stockd ingest status` show.
//!
//! PostgreSQL claims with `for update skip locked`, so workers of several replicas never wait
//! on each other; SQLite has a single writer, and claims inside `begin immediate`, which takes
//! the write lock before reading, so two claims can never pick the same row.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::Symbol;

use crate::StoreError;
pub(crate) use memory::MemoryJobs;

/// The columns of a job row, as [`JobRow`] names them.
const JOB_COLUMNS: &str = "id, dedupe_key, kind, run_group, symbols, from_date, to_date, status, \
    attempts, max_attempts, run_at, lease_until, worker, last_error, bars_changed, created_at, \
    updated_at, finished_at";

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// The scheduled end-of-day refresh of tracked symbols.
    Daily,
    /// A backfill of a date range (`stockd ingest --from`).
    Backfill,
    /// Rewriting the archive partitions of a finished ingestion run.
    Archive,
    /// Fetching and storing the recent news articles of a batch of symbols.
    News,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker (new, or waiting for its retry time).
    Queued,
    /// Claimed by a worker that holds its lease.
    Running,
    Succeeded,
    /// Out of attempts, or failed for a reason a retry cannot change; `last_error` says why.
    Failed,
}

text_enum!(JobKind {
    Daily => "daily",
    Backfill => "backfill",
    Archive => "archive",
    News => "news",
});
text_enum!(JobStatus {
    Queued => "queued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
});

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    /// Jobs enqueued together, e.g. `daily:2026-11-27` or a backfill's key.
    pub group: String,
    /// The same key enqueued again is the same job (it is not added twice).
    pub dedupe_key: String,
    pub symbols: Vec<Symbol>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Attempts before the job is failed for good (at least 1).
    pub max_attempts: u32,
    /// Not claimed before this instant.
    pub run_at: DateTime<Utc>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub group: String,
    pub dedupe_key: String,
    /// The symbols still to do (a retry keeps only those that failed).
    pub symbols: Vec<Symbol>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub status: JobStatus,
    /// Claims so far, the current one included.
    pub attempts: u32,
    pub max_attempts: u32,
    /// When it may run (next); for a queued retry, the end of its backoff.
    pub run_at: DateTime<Utc>,
    /// Until when the claiming worker holds it.
    pub lease_until: Option<DateTime<Utc>>,
    /// The worker that claimed it last.
    pub worker: Option<String>,
    /// Why the last attempt failed (or, for a success, the symbols that were skipped).
    pub last_error: Option<String>,
    /// Bars inserted or changed over every attempt.
    pub bars_changed: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How an attempt ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done; `note` lists what was skipped for good (e.g. an unknown symbol), if anything.
    Succeeded {
        bars_changed: u64,
        note: Option<String>,
    },
    /// Try again at `run_at` with only `symbols` (those that failed).
    Retry {
        bars_changed: u64,
        error: String,
        symbols: Vec<Symbol>,
        run_at: DateTime<Utc>,
    },
    /// Failed for good.
    Failed { bars_changed: u64, error: String },
}

/// Which jobs to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub group: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

impl Default for JobFilter {
    fn default() -> Self {
        Self {
            status: None,
            group: None,
            limit: 100,
        }
    }
}

/// Jobs per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl JobCounts {
    /// Jobs not finished yet (queued or running).
    pub fn pending(&self) -> u64 {
        self.queued + self.running
    }

    /// Every job counted.
    pub fn total(&self) -> u64 {
        self.pending() + self.succeeded + self.failed
    }

    fn add(&mut self, status: JobStatus, count: u64) {
        match status {
            JobStatus::Queued => self.queued += count,
            JobStatus::Running => self.running += count,
            JobStatus::Succeeded => self.succeeded += count,
            JobStatus::Failed => self.failed += count,
        }
    }
}

/// The job queue's storage.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Adds `job` unless a job with its dedupe key exists; returns the stored job and whether it
    /// was added now.
    async fn enqueue_job(
        &self,
        job: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<(Job, bool), StoreError>;

    /// Claims the oldest due job for `worker` until `lease_until`: a queued job whose `run_at`
    /// has come, or a running job whose lease has passed (its worker is presumed dead) with
    /// attempts left. Counts an attempt. `None` when nothing is due.
    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Job>, StoreError>;

    /// Extends `worker`'s lease on job `id`; `false` when the job is no longer its own (its lease
    /// passed and another worker reclaimed it), in which case the worker should stop.
    async fn renew_lease(
        &self,
        id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records how `worker`'s attempt at job `id` ended; `false` (and nothing written) when the
    /// job is no longer its own.
    async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Fails the running jobs whose lease has passed and that have no attempts left (their
    /// worker died on the last attempt). Returns how many.
    async fn fail_abandoned_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Jobs matching `filter`, newest first.
    async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError>;

    /// One job by id.
    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError>;

    /// Jobs per status, of one group or of all.
    async fn job_counts(&self, group: Option<&str>) -> Result<JobCounts, StoreError>;
}

/// The text stored for a job's symbols.
fn symbols_text(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(Symbol::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_symbols(text: &str) -> Result<Vec<Symbol>, StoreError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            Symbol::parse(s).map_err(|err| StoreError::Corrupt(format!("job symbol '{s}': {err}")))
        })
        .collect()
}

/// The error recorded when a job's worker died on its last attempt.
fn abandoned_error(attempts: u32, last_error: Option<&str>) -> String {
    let mut text = format!(
        "the worker running attempt {attempts} stopped before finishing (lease expired) and no \
         attempts are left"
    );
    if let Some(last) = last_error {
        text.push_str("; earlier error: ");
        text.push_str(last);
    }
    text
}

/// The columns an outcome writes: status, run_at (if it changes), symbols (if they change),
/// last_error, bars to add, finished_at.
struct OutcomeColumns<'a> {
    status: JobStatus,
    run_at: Option<DateTime<Utc>>,
    symbols: Option<String>,
    last_error: Option<&'a str>,
    bars_changed: i64,
    finished: bool,
}

impl<'a> OutcomeColumns<'a> {
    fn of(outcome: &'a JobOutcome) -> Self {
        let bars = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        match outcome {
            JobOutcome::Succeeded { bars_changed, note } => Self {
                status: JobStatus::Succeeded,
                run_at: None,
                symbols: None,
                last_error: note.as_deref(),
                bars_changed: bars(*bars_changed),
                finished: true,
            },
            JobOutcome::Retry {
                bars_changed,
                error,
                symbols,
                run_at,
            } => Self {
                status: JobStatus::Queued,
                run_at: Some(*run_at),
                symbols: Some(symbols_text(symbols)),
                last_error: Some(error),
                bars_changed: bars(*bars_changed),
                finished: false,
            },
            JobOutcome::Failed {
                bars_changed,
                error,
            } => Self {
                status: JobStatus::Failed,
                run_at: None,
                symbols: None,
                last_error: Some(error),
                bars_changed: bars(*bars_changed),
                finished: true,
            },
        }
    }
}

/// An `ingest_jobs` row selected with [`JOB_COLUMNS`], as the database types it.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    dedupe_key: String,
    kind: String,
    run_group: String,
    symbols: String,
    from_date: Option<NaiveDate>,
    to_date: Option<NaiveDate>,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    lease_until: Option<DateTime<Utc>>,
    worker: Option<String>,
    last_error: Option<String>,
    bars_changed: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Self, StoreError> {
        let count = |column: &str, value: i32| {
            u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("job {column} {value}")))
        };
        Ok(Job {
            id: row.id,
            kind: row.kind.parse().map_err(StoreError::Corrupt)?,
            group: row.run_group,
            dedupe_key: row.dedupe_key,
            symbols: parse_symbols(&row.symbols)?,
            from: row.from_date,
            to: row.to_date,
            status: row.status.parse().map_err(StoreError::Corrupt)?,
            attempts: count("attempts", row.attempts)?,
            max_attempts: count("max_attempts", row.max_attempts)?,
            run_at: row.run_at,
            lease_until: row.lease_until,
            worker: row.worker,
            last_error: row.last_error,
            bars_changed: u64::try_from(row.bars_changed).unwrap_or(0),
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
        })
    }
}

/// Adds `count` jobs of the stored status `status` to `counts`.
fn count_status(counts: &mut JobCounts, status: &str, count: i64) -> Result<(), StoreError> {
    let status: JobStatus = status.parse().map_err(StoreError::Corrupt)?;
    counts.add(status, u64::try_from(count).unwrap_or(0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip_through_their_stored_names() {
        for kind in [
            JobKind::Daily,
            JobKind::Backfill,
            JobKind::Archive,
            JobKind::News,
        ] {
            assert_eq!(kind.as_str().parse::<JobKind>().unwrap(), kind);
        }
        for status in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<JobStatus>().unwrap(), status);
        }
        let err = "paused".parse::<JobStatus>().unwrap_err();
        assert!(err.contains("queued, running, succeeded, failed"), "{err}");
    }

    #[test]
    fn symbols_round_trip_through_their_stored_text() {
        let symbols = vec![
            Symbol::parse("MSFT").unwrap(),
            Symbol::parse("BRK.B").unwrap(),
        ];
        assert_eq!(parse_symbols(&symbols_text(&symbols)).unwrap(), symbols);
        assert!(parse_symbols("").unwrap().is_empty());
    }
}
