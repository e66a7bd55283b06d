//! The job queue in memory, for tests on a paused clock: the same rules as the SQL backends,
//! under one lock.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Job, JobCounts, JobFilter, JobOutcome, JobQueue, JobStatus, NewJob, OutcomeColumns,
    abandoned_error, parse_symbols,
};
use crate::{MemoryStore, StoreError};

/// The jobs of a [`MemoryStore`], in id order.
#[derive(Debug, Default)]
pub(crate) struct MemoryJobs {
    jobs: Mutex<Vec<Job>>,
}

impl MemoryJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn claimable(job: &Job, now: DateTime<Utc>) -> bool {
    match job.status {
        JobStatus::Queued => job.run_at <= now,
        JobStatus::Running => {
            job.lease_until.is_some_and(|lease| lease < now) && job.attempts < job.max_attempts
        }
        JobStatus::Succeeded | JobStatus::Failed => false,
    }
}

fn owned_running<'a>(jobs: &'a mut [Job], id: i64, worker: &str) -> Option<&'a mut Job> {
    jobs.iter_mut().find(|job| {
        job.id == id && job.status == JobStatus::Running && job.worker.as_deref() == Some(worker)
    })
}

#[async_trait]
impl JobQueue for MemoryStore {
    async fn enqueue_job(
        &self,
        new: &NewJob,
        now: DateTime<Utc>,
    ) -> Result<(Job, bool), StoreError> {
        let mut jobs = self.jobs.lock();
        if let Some(existing) = jobs.iter().find(|job| job.dedupe_key == new.dedupe_key) {
            return Ok((existing.clone(), false));
        }
        let job = Job {
            id: jobs.last().map_or(1, |last| last.id + 1),
            kind: new.kind,
            group: new.group.clone(),
            dedupe_key: new.dedupe_key.clone(),
            symbols: new.symbols.clone(),
            from: new.from,
            to: new.to,
            status: JobStatus::Queued,
            attempts: 0,
            max_attempts: new.max_attempts.max(1),
            run_at: new.run_at,
            lease_until: None,
            worker: None,
            last_error: None,
            bars_changed: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        jobs.push(job.clone());
        Ok((job, true))
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<Job>, StoreError> {
        let mut jobs = self.jobs.lock();
        let Some(job) = jobs
            .iter_mut()
            .filter(|job| claimable(job, now))
            .min_by_key(|job| (job.run_at, job.id))
        else {
            return Ok(None);
        };
        job.status = JobStatus::Running;
        job.attempts += 1;
        job.worker = Some(worker.to_owned());
        job.lease_until = Some(lease_until);
        job.updated_at = now;
        Ok(Some(job.clone()))
    }

    async fn renew_lease(
        &self,
        id: i64,
        worker: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.jobs.lock();
        let Some(job) = owned_running(&mut jobs, id, worker) else {
            return Ok(false);
        };
        job.lease_until = Some(lease_until);
        job.updated_at = now;
        Ok(true)
    }

    async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        outcome: &JobOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let columns = OutcomeColumns::of(outcome);
        let mut jobs = self.jobs.lock();
        let Some(job) = owned_running(&mut jobs, id, worker) else {
            return Ok(false);
        };
        job.status = columns.status;
        if let Some(run_at) = columns.run_at {
            job.run_at = run_at;
        }
        if let Some(symbols) = &columns.symbols {
            job.symbols = parse_symbols(symbols)?;
        }
        job.last_error = columns.last_error.map(str::to_owned);
        job.bars_changed += u64::try_from(columns.bars_changed).unwrap_or(0);
        job.lease_until = None;
        job.finished_at = columns.finished.then_some(now);
        job.updated_at = now;
        Ok(true)
    }

    async fn fail_abandoned_jobs(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut jobs = self.jobs.lock();
        let mut failed = 0;
        for job in jobs.iter_mut().filter(|job| {
            job.status == JobStatus::Running
                && job.lease_until.is_some_and(|lease| lease < now)
                && job.attempts >= job.max_attempts
        }) {
            job.status = JobStatus::Failed;
            job.last_error = Some(abandoned_error(job.attempts, job.last_error.as_deref()));
            job.lease_until = None;
            job.finished_at = Some(now);
            job.updated_at = now;
            failed += 1;
        }
        Ok(failed)
    }

    async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let jobs = self.jobs.lock();
        Ok(jobs
            .iter()
            .rev()
            .filter(|job| filter.status.is_none_or(|status| job.status == status))
            .filter(|job| {
                filter
                    .group
                    .as_ref()
                    .is_none_or(|group| &job.group == group)
            })
            .take(filter.limit as usize)
            .cloned()
            .collect())
    }

    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        Ok(self.jobs.lock().iter().find(|job| job.id == id).cloned())
    }

    async fn job_counts(&self, group: Option<&str>) -> Result<JobCounts, StoreError> {
        let mut counts = JobCounts::default();
        for job in self
            .jobs
            .lock()
            .iter()
            .filter(|job| group.is_none_or(|group| job.group == group))
        {
            counts.add(job.status, 1);
        }
        Ok(counts)
    }
}
