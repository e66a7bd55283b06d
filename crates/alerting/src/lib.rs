//! The alert path's loops: live quotes in (with a data-quality guard), firings out.
//!
//! - [`poller`]: polls the quote providers (through the market's provider chain: quotas,
//!   breakers, fallback; the `sim` feed when there is no key) for every symbol with an active
//!   rule, drops bad data ([`guard`]), and publishes quotes on the bus.
//! - [`evaluator`]: consumes quotes (one owner per symbol partition), runs them through the
//!   in-memory [`alerts::Engine`], and writes each firing with its outbox rows in one store
//!   transaction; the quote is acknowledged only after that, so a crash redelivers it and the
//!   dedupe key absorbs the repeat. `window_days` moves compare with the symbol's stored daily
//!   bars, loaded per session, and series rules (`"series": "rsi:14"`) read indicators over
//!   all of them, with the live price as the session's provisional bar.
//! - [`dispatcher`]: claims due outbox rows under a lease, sends the batch concurrently through
//!   each row's channel ([`notify`]), bounded per receiving host, and records every attempt of
//!   the batch in one store write; retries follow the schedule, permanent failures stop at once.

mod closes;
pub mod dispatcher;
pub mod evaluator;
pub mod guard;
pub mod poller;
mod series;

/// Resolves once `stop` holds `true` (or its sender is gone). The guard `wait_for` returns is
/// dropped here: held in a `select!` it would make the loop's future unsendable.
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
