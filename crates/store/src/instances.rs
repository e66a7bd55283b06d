//! Running stockd processes: each records a heartbeat (who it is, its role and version, when
//! it started and when it was last seen), so any replica can list the deployment's instances.
//!
//! A heartbeat is an upsert on the instance id: a process writes its row again every interval,
//! and a restart is a new id (a new row). Rows of instances not seen for long are removed by
//! [`Instances::forget_instances`], which the heartbeat loop calls.

mod memory;
mod sql;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;
pub(crate) use memory::MemoryInstances;

/// One process of the deployment, as its last heartbeat recorded it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Instance {
    /// Unique per process start (host name, process id and a random part).
    pub id: String,
    /// What it runs: `all`, or the roles joined with `+` (`api`, `worker`, `alerts`).
    pub role: String,
    /// The stockd version it runs.
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// Its latest heartbeat.
    pub last_seen: DateTime<Utc>,
}

/// Heartbeats of running processes.
#[async_trait]
pub trait Instances: Send + Sync {
    /// Records `instance` as seen at `instance.last_seen`: inserts its row, or updates the
    /// row's role, version and last_seen (its `started_at` stays the first written).
    async fn record_heartbeat(&self, instance: &Instance) -> Result<(), StoreError>;

    /// Every recorded instance, most recently started first.
    async fn instances(&self) -> Result<Vec<Instance>, StoreError>;

    /// Removes the instances last seen before `seen_before`; returns how many.
    async fn forget_instances(&self, seen_before: DateTime<Utc>) -> Result<u64, StoreError>;
}
