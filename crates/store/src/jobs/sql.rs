//! The job queue in SQLite and PostgreSQL: one set of statements for both (PostgreSQL's `$1`
//! parameters, which sqlx's SQLite driver binds by number), stamped out per store type by
//! [`sql_job_queue`]. What differs is how a write holds the queue: SQLite takes its one write
//! lock before it reads (`begin immediate`, [`SqliteStore::write_tx`]), so two claims never pick
//! the same row; PostgreSQL locks the rows it picks with `for update skip locked`
//! ([`PostgresStore::SKIP_LOCKED`]), so workers of several replicas take different jobs without
//! waiting on each other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    JOB_COLUMNS, Job, JobCounts, JobFilter, JobOutcome, JobQueue, JobRow, JobStatus, NewJob,
    OutcomeColumns, abandoned_error, count_status, symbols_text,
};
use crate::{PostgresStore, SqliteStore, StoreError};

/// The running jobs whose lease has passed with no attempts left (`$1`: now).
const ABANDONED: &str =
    "from ingest_jobs where status = 'running' and lease_until < $1 and attempts >= max_attempts";

/// `impl JobQueue for $store` over its `pool()`, `write_tx()` and `SKIP_LOCKED`.
macro_rules! sql_job_queue {
    ($store:ty) => {
        #[async_trait]
        impl JobQueue for $store {
            async fn enqueue_job(
                &self,
                new: &NewJob,
                now: DateTime<Utc>,
            ) -> Result<(Job, bool), StoreError> {
                let mut tx = self.write_tx().await?;
                let inserted = sqlx::query(
                    "insert into ingest_jobs (dedupe_key, kind, run_group, symbols, from_date, \
                     to_date, status, attempts, max_attempts, run_at, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $9, $9) \
                     on conflict (dedupe_key) do nothing",
                )
                .bind(&new.dedupe_key)
                .bind(new.kind.as_str())
                .bind(&new.group)
                .bind(symbols_text(&new.symbols))
                .bind(new.from)
                .bind(new.to)
                .bind(i32::try_from(new.max_attempts.max(1)).unwrap_or(i32::MAX))
                .bind(new.run_at)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let row: JobRow = sqlx::query_as(AssertSqlSafe(format!(
                    "select {JOB_COLUMNS} from ingest_jobs where dedupe_key = $1"
                )))
                .bind(&new.dedupe_key)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((Job::try_from(row)?, inserted == 1))
            }

            async fn claim_job(
                &self,
                worker: &str,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
            ) -> Result<Option<Job>, StoreError> {
                let mut tx = self.write_tx().await?;
                let row: Option<JobRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "update ingest_jobs set status = 'running', attempts = attempts + 1, \
                     worker = $1, lease_until = $2, updated_at = $3 \
                     where id = (select id from ingest_jobs \
                         where (status = 'queued' and run_at <= $3) \
                            or (status = 'running' and lease_until < $3 \
                                and attempts < max_attempts) \
                         order by run_at, id limit 1{}) \
                     returning {JOB_COLUMNS}",
                    Self::SKIP_LOCKED
                )))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.map(Job::try_from).transpose()
            }

            async fn renew_lease(
                &self,
                id: i64,
                worker: &str,
                lease_until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let renewed = sqlx::query(
                    "update ingest_jobs set lease_until = $1, updated_at = $2 \
                     where id = $3 and worker = $4 and status = 'running'",
                )
                .bind(lease_until)
                .bind(now)
                .bind(id)
                .bind(worker)
                .execute(self.pool())
                .await?
                .rows_affected();
                Ok(renewed == 1)
            }

            async fn finish_job(
                &self,
                id: i64,
                worker: &str,
                outcome: &JobOutcome,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let columns = OutcomeColumns::of(outcome);
                let updated = sqlx::query(
                    "update ingest_jobs set status = $1, run_at = coalesce($2, run_at), \
                     symbols = coalesce($3, symbols), last_error = $4, \
                     bars_changed = bars_changed + $5, lease_until = null, finished_at = $6, \
                     updated_at = $7 \
                     where id = $8 and worker = $9 and status = 'running'",
                )
                .bind(columns.status.as_str())
                .bind(columns.run_at)
                .bind(columns.symbols)
                .bind(columns.last_error)
                .bind(columns.bars_changed)
                .bind(columns.finished.then_some(now))
                .bind(now)
                .bind(id)
                .bind(worker)
                .execute(self.pool())
                .await?
                .rows_affected();
                Ok(updated == 1)
            }

            async fn fail_abandoned_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
                // Every idle worker asks this on every poll, and there is almost never anything
                // to do: a plain read first, so a write (SQLite's one lock) is only taken when a
                // job needs failing.
                let candidates: i64 =
                    sqlx::query_scalar(AssertSqlSafe(format!("select count(*) {ABANDONED}")))
                        .bind(now)
                        .fetch_one(self.pool())
                        .await?;
                if candidates == 0 {
                    return Ok(0);
                }
                let mut tx = self.write_tx().await?;
                let abandoned: Vec<JobRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {JOB_COLUMNS} {ABANDONED}{}",
                    Self::SKIP_LOCKED
                )))
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                let count = abandoned.len() as u64;
                for row in abandoned {
                    let stale = Job::try_from(row)?;
                    sqlx::query(
                        "update ingest_jobs set status = $1, last_error = $2, \
                         lease_until = null, finished_at = $3, updated_at = $3 where id = $4",
                    )
                    .bind(JobStatus::Failed.as_str())
                    .bind(abandoned_error(stale.attempts, stale.last_error.as_deref()))
                    .bind(now)
                    .bind(stale.id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(count)
            }

            async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
                let status = filter.status.map(JobStatus::as_str);
                let rows: Vec<JobRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {JOB_COLUMNS} from ingest_jobs \
                     where (cast($1 as text) is null or status = $1) \
                     and (cast($2 as text) is null or run_group = $2) \
                     order by id desc limit $3"
                )))
                .bind(status)
                .bind(filter.group.as_deref())
                .bind(i64::from(filter.limit))
                .fetch_all(self.pool())
                .await?;
                rows.into_iter().map(Job::try_from).collect()
            }

            async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
                let row: Option<JobRow> = sqlx::query_as(AssertSqlSafe(format!(
                    "select {JOB_COLUMNS} from ingest_jobs where id = $1"
                )))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
                row.map(Job::try_from).transpose()
            }

            async fn job_counts(&self, group: Option<&str>) -> Result<JobCounts, StoreError> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "select status, count(*) from ingest_jobs \
                     where (cast($1 as text) is null or run_group = $1) group by status",
                )
                .bind(group)
                .fetch_all(self.pool())
                .await?;
                let mut counts = JobCounts::default();
                for (status, count) in rows {
                    count_status(&mut counts, &status, count)?;
                }
                Ok(counts)
            }
        }
    };
}

sql_job_queue!(SqliteStore);
sql_job_queue!(PostgresStore);
