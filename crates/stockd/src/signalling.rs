//! Signals after ingestion: each finished fetch job's symbols get their new days' composite
//! signals computed and stored (`service::Service::refresh_signals`); the service announces
//! every symbol whose latest label changed on its bus (`bus::SignalLabelChanged`), as it does
//! for a read that catches up.

use std::sync::Arc;

use async_trait::async_trait;
use bus::Bus;
use domain::Symbol;
use service::Service;

/// The [`ingest::AfterFetch`] hook that keeps stored signals current.
#[derive(Debug)]
pub struct SignalsAfterFetch {
    service: Service,
}

impl SignalsAfterFetch {
    /// Signals through `service` (its configured method), changes published on `bus`.
    pub fn new(service: Service, bus: Arc<dyn Bus>) -> Self {
        service.announce_on(bus);
        Self { service }
    }
}

#[async_trait]
impl ingest::AfterFetch for SignalsAfterFetch {
    async fn fetched(&self, symbols: &[Symbol]) {
        let refresh = match self.service.refresh_signals(symbols).await {
            Ok(refresh) => refresh,
            Err(err) => {
                // The next run computes every day after the latest stored one, so nothing is lost.
                tracing::warn!(error = %err, symbols = symbols.len(), "could not compute signals after ingestion");
                return;
            }
        };
        tracing::debug!(
            stored = refresh.stored,
            changes = refresh.changes.len(),
            "signals computed"
        );
    }
}
