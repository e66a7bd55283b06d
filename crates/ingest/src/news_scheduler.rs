//! The news schedule loop: enqueue the news run of each schedule slot.
//!
//! The schedule is a cron expression in a time zone (default every 30 minutes, New York time).
//! With `trading_days_only` (the default) a fire on a date the NYSE is closed (a weekend or a
//! holiday, by the New York date of the fire) runs nothing: the sources' cursors hold, so the
//! first run of the next trading day fetches what appeared meanwhile (up to each fetch's
//! limit). Without it, every fire runs, weekends included.
//!
//! Every replica may run this loop: a run's group and jobs are keyed by the slot (the fire's
//! instant), so two schedulers firing for one slot enqueue it once. At start, the latest slot at
//! or before now is enqueued (a no-op when another replica, or this one before a restart,
//! already did), so a fresh start has news without waiting a whole interval.

use chrono::{DateTime, Utc};

use crate::scheduler::nap_until;
use crate::{Ingestor, Schedule, Stop};

/// When news runs.
#[derive(Debug, Clone)]
pub struct NewsSchedule {
    pub schedule: Schedule,
    /// Skip fires on dates the NYSE is closed.
    pub trading_days_only: bool,
}

impl NewsSchedule {
    /// Whether a fire at `fire` runs (else: why not, for the log).
    fn runs_at(&self, fire: DateTime<Utc>) -> Result<(), String> {
        match self.schedule.closure_at(fire) {
            Some((date, closure)) if self.trading_days_only => {
                Err(format!("the market is closed on {date} ({closure:?})"))
            }
            _ => Ok(()),
        }
    }
}

/// Runs `schedule` for `ingestor` until `stop` is raised.
pub async fn run_news_scheduler(ingestor: Ingestor, schedule: NewsSchedule, mut stop: Stop) {
    let clock = ingestor.clock();
    let cron = &schedule.schedule;
    tracing::info!(
        schedule = cron.expression(),
        time_zone = cron.zone(),
        trading_days_only = schedule.trading_days_only,
        "news scheduler started"
    );
    if let Some(latest) = cron.latest_at_or_before(clock.now()) {
        fire(&ingestor, &schedule, latest, "catch-up").await;
    }
    loop {
        let Some(next) = cron.next_after(clock.now()) else {
            tracing::warn!(
                schedule = cron.expression(),
                "the news schedule never fires again"
            );
            return;
        };
        if !nap_until(clock, next, &mut stop).await {
            return;
        }
        fire(&ingestor, &schedule, next, "scheduled").await;
    }
}

async fn fire(ingestor: &Ingestor, schedule: &NewsSchedule, slot: DateTime<Utc>, reason: &str) {
    if let Err(why) = schedule.runs_at(slot) {
        tracing::debug!(%slot, reason, "no news run: {why}");
        metrics::counter!("stock_api_news_runs_total", "outcome" => "market_closed").increment(1);
        return;
    }
    match ingestor.enqueue_news(slot).await {
        Ok(enqueued) => {
            metrics::counter!("stock_api_news_runs_total", "outcome" => "enqueued").increment(1);
            tracing::info!(
                %slot,
                reason,
                group = %enqueued.group,
                added = enqueued.added,
                existing = enqueued.existing,
                "news run enqueued"
            );
        }
        Err(err) => {
            metrics::counter!("stock_api_news_runs_total", "outcome" => "error").increment(1);
            tracing::warn!(%slot, reason, error = %err, "could not enqueue a news run");
        }
    }
}
