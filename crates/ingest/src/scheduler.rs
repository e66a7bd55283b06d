//! The schedule loop: catch up at start, then enqueue each scheduled session.
//!
//! Every replica may run it: jobs are deduplicated in the store, so two schedulers enqueue a
//! session once. It sleeps at most a minute at a time and compares against the clock, so a
//! suspended laptop or a changed system clock delays a run by at most a minute.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Clock, Ingestor, Schedule, Session, Stop};

/// The longest single sleep between clock checks.
const MAX_NAP: Duration = Duration::from_secs(60);

/// Runs `schedule` for `ingestor` until `stop` is raised.
pub async fn run_scheduler(ingestor: Ingestor, schedule: Schedule, mut stop: Stop) {
    let clock = ingestor.clock();
    // A run missed while stockd was down (or before it was first started) is done now.
    let latest = schedule.latest_closed_session(clock.now());
    enqueue(&ingestor, latest, "catch-up").await;
    tracing::info!(
        schedule = schedule.expression(),
        time_zone = schedule.zone(),
        "ingest scheduler started"
    );
    loop {
        let Some(next) = schedule.next_after(clock.now()) else {
            tracing::warn!(
                schedule = schedule.expression(),
                "the ingest schedule never fires again"
            );
            return;
        };
        tracing::debug!(%next, "next scheduled ingest");
        if !nap_until(clock, next, &mut stop).await {
            return;
        }
        match schedule.session_for_fire(next) {
            Session::Trading(session) => enqueue(&ingestor, session, "scheduled").await,
            Session::Closed { date, closure } => {
                tracing::info!(%date, ?closure, "the market was closed: nothing to ingest");
                metrics::counter!("stock_api_ingest_runs_total", "outcome" => "market_closed")
                    .increment(1);
            }
        }
    }
}

/// Sleeps until `clock` reaches `fire`, at most [`MAX_NAP`] at a time so a suspended machine
/// or a changed clock delays a fire by at most that much. False when `stop` was raised first.
/// Shared by the ingest and the news schedule loops.
pub(crate) async fn nap_until(clock: Clock, fire: DateTime<Utc>, stop: &mut Stop) -> bool {
    loop {
        let left = (fire - clock.now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep(left.min(MAX_NAP)) => {}
            () = stop.wait() => return false,
        }
    }
}

async fn enqueue(ingestor: &Ingestor, session: chrono::NaiveDate, reason: &'static str) {
    match ingestor.enqueue_session(session).await {
        Ok(enqueued) => {
            metrics::counter!("stock_api_ingest_runs_total", "outcome" => "enqueued").increment(1);
            tracing::info!(
                %session,
                reason,
                added = enqueued.added,
                existing = enqueued.existing,
                "ingest run enqueued"
            );
        }
        Err(err) => {
            metrics::counter!("stock_api_ingest_runs_total", "outcome" => "error").increment(1);
            tracing::warn!(%session, reason, error = %err, "could not enqueue an ingest run");
        }
    }
}
