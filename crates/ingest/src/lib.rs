//! Ingestion: keeping the store's end-of-day history complete without anyone asking for it.
//!
//! - [`schedule`]: a cron schedule over the NYSE calendar decides when a run happens and which
//!   session it is for; holidays are a normal "closed", not a failure.
//! - [`Ingestor::enqueue_session`] / [`Ingestor::enqueue_backfill`] put jobs (batches of
//!   symbols) on the store's job queue ([`store::JobQueue`]), idempotently: a dedupe key per
//!   batch means every replica's scheduler, or a backfill started twice, enqueues the work once.
//! - [`Ingestor::run_worker`]: N workers claim jobs under a lease they keep renewing, fetch each
//!   symbol through the provider chain ([`market::Market::refresh_daily`]: quotas, breakers,
//!   fallback), upsert bars idempotently, and record the outcome. Symbols that failed in a way a
//!   retry can fix are retried with exponential backoff, alone, up to a limit; a job whose worker
//!   died is reclaimed when its lease passes.
//! - [`run_scheduler`]: at start, catches up on the newest closed session, then enqueues each
//!   scheduled session.
//! - When every job of a run has finished, an archive job rewrites that run's Parquet
//!   partitions through an [`Archiver`], if one is configured.
//! - News runs ([`Ingestor::enqueue_news`], [`run_news_scheduler`]) are jobs of their own kind on
//!   the same queue: each symbol's recent articles from every source's cursor, stored once by
//!   canonical URL, then the cursor moved; an [`AfterNews`] hook hears of new articles.
//! - After each attempt at a fetch job, an [`AfterFetch`] hook (if configured) gets the job's
//!   symbols, once their bars are stored: the binary computes and stores their signals there.

mod enqueue;
mod news;
mod news_scheduler;
pub mod schedule;
mod scheduler;
mod worker;

use std::fmt::Debug;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::Symbol;
use market::{Clock, Market};
use store::{Bars, Store};
use tokio::sync::Notify;

pub use enqueue::{Enqueued, backfill_group};
pub use news::{AfterNews, NewsError, NewsIngestConfig, NewsIngested, SymbolNews, slot_group};
pub use news_scheduler::{NewsSchedule, run_news_scheduler};
pub use schedule::{Schedule, ScheduleError, Session};
pub use scheduler::run_scheduler;
pub use worker::{JobReport, Stop};

/// How ingestion runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// Concurrent workers per process (`STOCKD_INGEST_WORKERS`).
    pub workers: usize,
    /// Symbols per scheduled job.
    pub batch_size: usize,
    /// Attempts per job before it stays failed.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles with every attempt, up to `max_backoff`.
    pub retry_backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claimed job stays a worker's without a renewal; renewed every third of it.
    /// A job whose worker died is reclaimed this long after its last renewal.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (jobs enqueued by this process wake it at
    /// once).
    pub poll_interval: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            batch_size: 25,
            max_attempts: 5,
            retry_backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(3_600),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// Writes the archive partitions of ingested history (the Parquet archive, in the binary).
#[async_trait]
pub trait Archiver: Send + Sync + Debug {
    /// Rewrites the partitions of `symbol` for `years` from the store; returns the rows written.
    async fn archive(
        &self,
        store: &dyn Bars,
        symbol: Symbol,
        years: RangeInclusive<i32>,
    ) -> Result<u64, String>;
}

/// Work done for the symbols of a fetch job once an attempt at it has finished and its bars are
/// stored (the binary computes, stores and announces their signals).
#[async_trait]
pub trait AfterFetch: Send + Sync + Debug {
    /// Called once per finished attempt at a daily or backfill job, with the symbols it was
    /// asked to fetch (some may have failed: they still have their older bars). The hook logs
    /// its own failures; ingestion goes on whatever it does.
    async fn fetched(&self, symbols: &[Symbol]);
}

/// Ingestion over one read path and its store: enqueues jobs and runs workers.
#[derive(Debug, Clone)]
pub struct Ingestor {
    market: Arc<Market>,
    /// The job queue, and the bars the archive hook reads back.
    store: Arc<dyn Store>,
    config: IngestConfig,
    archiver: Option<Arc<dyn Archiver>>,
    after_fetch: Option<Arc<dyn AfterFetch>>,
    /// How news jobs fetch.
    news: NewsIngestConfig,
    after_news: Option<Arc<dyn AfterNews>>,
    clock: Clock,
    /// Wakes this process's idle workers when it enqueues work.
    wake: Arc<Notify>,
}

impl Ingestor {
    /// Ingestion through `market` (its providers), queueing jobs in `store` (the store
    /// `market` writes bars to).
    pub fn new(market: Arc<Market>, store: Arc<dyn Store>, config: IngestConfig) -> Self {
        Self {
            market,
            store,
            config,
            archiver: None,
            after_fetch: None,
            news: NewsIngestConfig::default(),
            after_news: None,
            clock: Clock::System,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Archives each finished run through `archiver`.
    pub fn with_archiver(mut self, archiver: Arc<dyn Archiver>) -> Self {
        self.archiver = Some(archiver);
        self
    }

    /// Calls `hook` after each finished attempt at a fetch job.
    pub fn with_after_fetch(mut self, hook: Arc<dyn AfterFetch>) -> Self {
        self.after_fetch = Some(hook);
        self
    }

    /// Fetches news as `config` says (the default: 50 articles a fetch, 3 days back at first).
    pub fn with_news(mut self, config: NewsIngestConfig) -> Self {
        self.news = config;
        self
    }

    /// Calls `hook` after each finished news job attempt that stored new articles.
    pub fn with_after_news(mut self, hook: Arc<dyn AfterNews>) -> Self {
        self.after_news = Some(hook);
        self
    }

    /// Reads time from `clock` (tests on a paused clock).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The store jobs and bars live in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The settings.
    pub fn config(&self) -> &IngestConfig {
        &self.config
    }

    /// The clock jobs are timed by.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// Updates the queue-depth gauges from the store.
    pub async fn observe_queue(&self) {
        match self.store().job_counts(None).await {
            Ok(counts) => {
                metrics::gauge!("stock_api_ingest_queue_depth", "status" => "queued")
                    .set(counts.queued as f64);
                metrics::gauge!("stock_api_ingest_queue_depth", "status" => "running")
                    .set(counts.running as f64);
                metrics::gauge!("stock_api_ingest_jobs_failed").set(counts.failed as f64);
            }
            Err(err) => tracing::warn!(error = %err, "could not count ingest jobs"),
        }
    }
}
