//! The ingestion queue as operators see it: counts per status and the newest jobs.

use store::{Job, JobCounts, JobFilter};

use crate::{Service, ServiceError};

impl Service {
    /// The queue's counts (of `filter.group` when set) and the newest jobs matching `filter`.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<(JobCounts, Vec<Job>), ServiceError> {
        let store = self.store();
        let counts = store.job_counts(filter.group.as_deref()).await?;
        let jobs = store.jobs(filter).await?;
        Ok((counts, jobs))
    }
}
