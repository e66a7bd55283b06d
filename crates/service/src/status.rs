//! How this deployment stands: whether the store answers, and the providers (order, breakers,
//! quotas, pauses) as the read path knows them.

use std::time::Duration;

use market::ProviderStatus;

use crate::Service;

/// Why the store is not ready.
#[derive(Debug)]
pub enum StoreDown {
    /// It answered with an error.
    Failed,
    /// It did not answer within the bound.
    TimedOut(Duration),
}

impl Service {
    /// The store backend's name (`sqlite`, `postgres`).
    pub fn store_backend(&self) -> &'static str {
        self.store().backend()
    }

    /// Whether the store answers a ping within `within`.
    pub async fn store_ready(&self, within: Duration) -> Result<(), StoreDown> {
        match tokio::time::timeout(within, self.store().ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "readiness check failed");
                Err(StoreDown::Failed)
            }
            Err(_) => Err(StoreDown::TimedOut(within)),
        }
    }

    /// Every provider in the order each capability asks them, with its health and quota.
    pub fn providers(&self) -> Vec<ProviderStatus> {
        self.market().providers()
    }
}
