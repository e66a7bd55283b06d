//! The job queue on SQLite: claims inside `begin immediate`, the one-writer lock taken before
//! the read, so two workers can never claim the same job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::{
    JOB_COLUMNS, Job, JobCounts, JobFilter, JobOutcome, JobQueue, JobStatus, NewJob,
    OutcomeColumns, abandoned_error, count_status, job, symbols_text,
};
use crate::{SqliteStore, StoreError};

#[async_trait]
impl JobQueue for SqliteStore {
    async fn enqueue_job(
        &self,
        new: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<(Job, bool), StoreError> {
        let mut tx = self.pool().begin_with("begin immediate").await?;
        let inserted = sqlx::query(
            "insert into ingest_jobs (dedupe_key, kind, run_group, symbols, from_date, to_date, \
             status, attempts, max_attempts, run_at, created_at, updated_at) \
             values (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?) \
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
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let row = sqlx::query(AssertSqlSafe(format!(
            "select {JOB_COLUMNS} from ingest_jobs where dedupe_key = ?"
        )))
        .bind(&new.dedupe_key)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((job(&row)?, inserted == 1))
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Job>, StoreError> {
        let mut tx = self.pool().begin_with("begin immediate").await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "update ingest_jobs set status = 'running', attempts = attempts + 1, worker = ?, \
             lease_until = ?, updated_at = ? \
             where id = (select id from ingest_jobs \
                 where (status = 'queued' and run_at <= ?) \
                    or (status = 'running' and lease_until < ? and attempts < max_attempts) \
                 order by run_at, id limit 1) \
             returning {JOB_COLUMNS}"
        )))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(job).transpose()
    }

    async fn renew_lease(
        &self,
        id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "update ingest_jobs set lease_until = ?, updated_at = ? \
             where id = ? and worker = ? and status = 'running'",
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
            "update ingest_jobs set status = ?, run_at = coalesce(?, run_at), \
             symbols = coalesce(?, symbols), last_error = ?, bars_changed = bars_changed + ?, \
             lease_until = null, finished_at = ?, updated_at = ? \
             where id = ? and worker = ? and status = 'running'",
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
        // Every idle worker asks this on every poll, and there is almost never anything to do:
        // a plain read first, so the write lock is only taken when a job needs failing.
        let candidates: i64 = sqlx::query_scalar(
            "select count(*) from ingest_jobs \
             where status = 'running' and lease_until < ? and attempts >= max_attempts",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        if candidates == 0 {
            return Ok(0);
        }
        let mut tx = self.pool().begin_with("begin immediate").await?;
        let abandoned = sqlx::query(AssertSqlSafe(format!(
            "select {JOB_COLUMNS} from ingest_jobs \
             where status = 'running' and lease_until < ? and attempts >= max_attempts"
        )))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for row in &abandoned {
            let stale = job(row)?;
            sqlx::query(
                "update ingest_jobs set status = ?, last_error = ?, lease_until = null, \
                 finished_at = ?, updated_at = ? where id = ?",
            )
            .bind(JobStatus::Failed.as_str())
            .bind(abandoned_error(stale.attempts, stale.last_error.as_deref()))
            .bind(now)
            .bind(now)
            .bind(stale.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(abandoned.len() as u64)
    }

    async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let status = filter.status.map(JobStatus::as_str);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "select {JOB_COLUMNS} from ingest_jobs \
             where (?1 is null or status = ?1) and (?2 is null or run_group = ?2) \
             order by id desc limit ?3"
        )))
        .bind(status)
        .bind(filter.group.as_deref())
        .bind(i64::from(filter.limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(job).collect()
    }

    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "select {JOB_COLUMNS} from ingest_jobs where id = ?"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(job).transpose()
    }

    async fn job_counts(&self, group: Option<&str>) -> Result<JobCounts, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select status, count(*) from ingest_jobs where (?1 is null or run_group = ?1) \
             group by status",
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
