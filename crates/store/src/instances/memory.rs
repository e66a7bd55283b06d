//! Instances in memory: one map under one lock.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Instance, Instances};
use crate::{MemoryStore, StoreError};

/// The memory store's instances, by id.
#[derive(Debug, Default)]
pub(crate) struct MemoryInstances(Mutex<HashMap<String, Instance>>);

#[async_trait]
impl Instances for MemoryStore {
    async fn record_heartbeat(&self, instance: &Instance) -> Result<(), StoreError> {
        let mut map = self.instances.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(instance.id.clone())
            .and_modify(|row| {
                row.role.clone_from(&instance.role);
                row.version.clone_from(&instance.version);
                row.last_seen = instance.last_seen;
            })
            .or_insert_with(|| instance.clone());
        Ok(())
    }

    async fn instances(&self) -> Result<Vec<Instance>, StoreError> {
        let map = self.instances.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<Instance> = map.values().cloned().collect();
        all.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn forget_instances(&self, seen_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut map = self.instances.0.lock().unwrap_or_else(|e| e.into_inner());
        let before = map.len();
        map.retain(|_, row| row.last_seen >= seen_before);
        Ok((before - map.len()) as u64)
    }
}
