//! Signals after ingestion: each finished fetch job's symbols get their new days' composite
//! signals computed and stored (`service::Service::refresh_signals`), and every symbol whose
//! latest label changed is announced on the bus (`bus::SignalLabelChanged`).

use std::sync::Arc;

use async_trait::async_trait;
use bus::{Bus, Event, SignalLabelChanged};
use domain::Symbol;
use service::Service;

/// The [`ingest::AfterFetch`] hook that keeps stored signals current.
#[derive(Debug)]
pub struct SignalsAfterFetch {
    service: Service,
    bus: Arc<dyn Bus>,
}

impl SignalsAfterFetch {
    /// Signals through `service` (its configured method), changes published on `bus`.
    pub fn new(service: Service, bus: Arc<dyn Bus>) -> Self {
        Self { service, bus }
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
        for change in refresh.changes {
            let symbol = change.symbol;
            let event = Event::SignalLabelChanged(SignalLabelChanged {
                symbol,
                day: change.day,
                method: change.method,
                previous: change.previous,
                label: change.label,
                score: change.score,
            });
            if let Err(err) = self.bus.publish(&event).await {
                tracing::warn!(symbol = %symbol, error = %err, "could not publish a signal label change");
            }
        }
    }
}
