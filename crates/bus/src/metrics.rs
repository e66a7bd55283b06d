//! The bus's counters, labelled by stream kind (a fixed set).

use crate::event::StreamKind;

pub(crate) fn published(kind: StreamKind) {
    metrics::counter!("stock_api_bus_published_total", "stream" => kind.as_str()).increment(1);
}

/// Every delivery counts as delivered; those after the first also as redelivered.
pub(crate) fn delivered(kind: StreamKind, attempt: u64) {
    metrics::counter!("stock_api_bus_delivered_total", "stream" => kind.as_str()).increment(1);
    if attempt > 1 {
        metrics::counter!("stock_api_bus_redelivered_total", "stream" => kind.as_str())
            .increment(1);
    }
}
