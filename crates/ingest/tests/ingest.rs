//! Ingestion end to end over a scripted provider and the in-memory store, on tokio's paused
//! clock: backfills, retries with backoff, permanent answers, deferral when providers say
//! "later", quota thrift, lease reclaim, the schedule over the NYSE calendar, and the archive
//! of a finished run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Bar, Price, Quote, Series, Symbol};
use ingest::{AfterFetch, Archiver, IngestConfig, Ingestor, Schedule, Stop, run_scheduler};
use market::{Clock, Market, MarketConfig, QuotaLimits, RetryConfig};
use providers::{MarketData, ProviderError};
use store::{Bars, JobFilter, JobKind, JobQueue, JobStatus, MemoryStore, Store};

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn bar(day: &str, close: &str) -> Bar {
    let close: Price = close.parse().unwrap();
    Bar::new_checked(date(day), close, close, close, close, 100, None).unwrap()
}

/// Four trading days of history for any symbol.
fn history(symbol: Symbol) -> Series {
    let bars = vec![
        bar("2024-01-02", "10"),
        bar("2024-01-03", "11"),
        bar("2024-01-04", "12"),
        bar("2024-01-05", "13"),
    ];
    Series::new(symbol, bars, "fake", Utc::now())
}

/// A provider answering from a per-symbol script (then with [`history`]), counting calls.
#[derive(Debug, Default)]
struct Fake {
    script: Mutex<HashMap<Symbol, VecDeque<Result<Series, ProviderError>>>>,
    calls: Mutex<Vec<Symbol>>,
    /// How long each answer takes.
    delay: Mutex<Duration>,
}

impl Fake {
    fn then(&self, symbol: &str, answer: Result<Series, ProviderError>) {
        self.script
            .lock()
            .unwrap()
            .entry(sym(symbol))
            .or_default()
            .push_back(answer);
    }

    fn calls_for(&self, symbol: &str) -> usize {
        let symbol = sym(symbol);
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|s| **s == symbol)
            .count()
    }

    fn total_calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[async_trait]
impl MarketData for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    async fn daily(&self, symbol: Symbol) -> Result<Series, ProviderError> {
        self.calls.lock().unwrap().push(symbol);
        let delay = *self.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let scripted = self
            .script
            .lock()
            .unwrap()
            .get_mut(&symbol)
            .and_then(VecDeque::pop_front);
        scripted.unwrap_or_else(|| Ok(history(symbol)))
    }

    async fn quote(&self, _symbol: Symbol) -> Result<Quote, ProviderError> {
        Err(ProviderError::NotSupported {
            provider: "fake",
            capability: "quotes",
        })
    }
}

fn upstream_error() -> ProviderError {
    ProviderError::Upstream {
        provider: "fake",
        detail: "HTTP 500".into(),
    }
}

fn rate_limited() -> ProviderError {
    ProviderError::RateLimited {
        provider: "fake",
        detail: "Too Many Requests".into(),
        retry_after: None,
        limit: providers::RateLimit::Unstated,
    }
}

/// Wednesday 2026-11-25, 15:00 UTC (10:00 in New York).
fn start() -> DateTime<Utc> {
    "2026-11-25T15:00:00Z".parse().unwrap()
}

struct World {
    provider: Arc<Fake>,
    store: Arc<MemoryStore>,
    market: Arc<Market>,
    ingestor: Ingestor,
    clock: Clock,
}

fn world_with(quota: Option<QuotaLimits>, config: IngestConfig) -> World {
    let clock = Clock::tokio_from(start());
    let provider = Arc::new(Fake::default());
    let store = Arc::new(MemoryStore::new());
    let mut market_config = MarketConfig {
        retry: RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        },
        clock,
        ..MarketConfig::default()
    };
    market_config.breaker.failure_threshold = 1_000;
    if let Some(limits) = quota {
        market_config.quotas = BTreeMap::from([("fake".to_owned(), limits)]);
    }
    let market = Arc::new(Market::new(
        provider.clone(),
        store.clone() as Arc<dyn Store>,
        market_config,
    ));
    let ingestor = Ingestor::new(market.clone(), store.clone(), config).with_clock(clock);
    World {
        provider,
        store,
        market,
        ingestor,
        clock,
    }
}

impl World {
    /// One `run_next` by `worker`, never asked to stop.
    async fn next(&self, worker: &str) -> Option<ingest::JobReport> {
        self.ingestor.run_next(worker, &no_stop()).await.unwrap()
    }
}

fn world() -> World {
    world_with(None, IngestConfig::default())
}

fn no_stop() -> Stop {
    let (sender, stop) = Stop::channel();
    std::mem::forget(sender);
    stop
}

#[tokio::test(start_paused = true)]
async fn a_backfill_stores_the_requested_range_once_and_running_it_again_adds_nothing() {
    let w = world();
    let symbols = [sym("MSFT"), sym("AAPL")];
    let enqueued = w
        .ingestor
        .enqueue_backfill(&symbols, date("2024-01-03"), Some(date("2024-01-04")))
        .await
        .unwrap();
    assert_eq!((enqueued.added, enqueued.existing), (2, 0));

    while w.next("w1").await.is_some() {}

    let counts = w.store.job_counts(Some(&enqueued.group)).await.unwrap();
    assert_eq!((counts.succeeded, counts.pending()), (2, 0));
    let stored = w.store.load_series(sym("MSFT")).await.unwrap().unwrap();
    let dates: Vec<NaiveDate> = stored.bars().iter().map(|b| b.date).collect();
    assert_eq!(
        dates,
        [date("2024-01-03"), date("2024-01-04")],
        "only the asked range"
    );
    let jobs = w.store.jobs(&JobFilter::default()).await.unwrap();
    assert!(jobs.iter().all(|j| j.bars_changed == 2), "{jobs:?}");

    let again = w
        .ingestor
        .enqueue_backfill(&symbols, date("2024-01-03"), Some(date("2024-01-04")))
        .await
        .unwrap();
    assert_eq!((again.added, again.existing), (0, 2));
    assert!(w.next("w1").await.is_none());
    assert_eq!(w.provider.total_calls(), 2, "nothing fetched twice");
}

#[tokio::test(start_paused = true)]
async fn a_failing_symbol_is_retried_alone_with_exponential_backoff() {
    let w = world();
    w.store.track_symbol(sym("MSFT"), start()).await.unwrap();
    w.store.track_symbol(sym("AAPL"), start()).await.unwrap();
    w.provider.then("AAPL", Err(upstream_error()));
    w.provider.then("AAPL", Err(upstream_error()));
    w.ingestor
        .enqueue_session(date("2026-11-24"))
        .await
        .unwrap();

    let first = w.next("w1").await.unwrap();
    assert_eq!(first.status, JobStatus::Queued, "retried");
    let job = w.store.job(first.id).await.unwrap().unwrap();
    assert_eq!(
        job.symbols,
        [sym("AAPL")],
        "only the failed symbol is retried"
    );
    assert!(job.last_error.unwrap().contains("AAPL: fake failed"));
    assert_eq!(job.run_at, w.clock.now() + chrono::Duration::seconds(60));

    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(w.next("w1").await.is_none());
    tokio::time::advance(Duration::from_secs(1)).await;
    let second = w.next("w1").await.unwrap();
    assert_eq!(second.status, JobStatus::Queued);
    let job = w.store.job(first.id).await.unwrap().unwrap();
    assert_eq!(
        job.run_at,
        w.clock.now() + chrono::Duration::seconds(120),
        "the backoff doubles"
    );

    tokio::time::advance(Duration::from_secs(120)).await;
    let third = w.next("w1").await.unwrap();
    assert_eq!(third.status, JobStatus::Succeeded);
    let job = w.store.job(first.id).await.unwrap().unwrap();
    assert_eq!(job.attempts, 3);
    assert_eq!(job.bars_changed, 8, "4 bars each, over every attempt");
    assert_eq!(w.provider.calls_for("MSFT"), 1);
    assert_eq!(w.provider.calls_for("AAPL"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_job_out_of_attempts_stays_failed_with_its_last_error() {
    let config = IngestConfig {
        max_attempts: 2,
        ..IngestConfig::default()
    };
    let w = world_with(None, config);
    w.store.track_symbol(sym("IBM"), start()).await.unwrap();
    for _ in 0..2 {
        w.provider.then("IBM", Err(upstream_error()));
    }
    w.ingestor
        .enqueue_session(date("2026-11-24"))
        .await
        .unwrap();
    let first = w.next("w1").await.unwrap();
    assert_eq!(first.status, JobStatus::Queued);
    tokio::time::advance(Duration::from_secs(60)).await;
    let last = w.next("w1").await.unwrap();
    assert_eq!(last.status, JobStatus::Failed);
    let failed = JobFilter {
        status: Some(JobStatus::Failed),
        ..JobFilter::default()
    };
    let jobs = w.store.jobs(&failed).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].last_error.as_deref().unwrap().contains("HTTP 500"));
    assert!(jobs[0].finished_at.is_some());
    tokio::time::advance(Duration::from_secs(3_600)).await;
    assert!(w.next("w1").await.is_none(), "never retried again");
}

#[tokio::test(start_paused = true)]
async fn an_unknown_symbol_is_noted_and_not_retried() {
    let w = world();
    w.provider.then(
        "ZZZZ",
        Err(ProviderError::UnknownSymbol {
            symbol: sym("ZZZZ"),
            detail: "not listed".into(),
        }),
    );
    w.ingestor
        .enqueue_backfill(&[sym("ZZZZ"), sym("MSFT")], date("2024-01-01"), None)
        .await
        .unwrap();
    while w.next("w1").await.is_some() {}
    let jobs = w.store.jobs(&JobFilter::default()).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == JobStatus::Succeeded));
    let zzzz = jobs.iter().find(|j| j.symbols == [sym("ZZZZ")]).unwrap();
    assert!(zzzz.last_error.as_deref().unwrap().contains("ZZZZ skipped"));
    let msft = jobs.iter().find(|j| j.symbols == [sym("MSFT")]).unwrap();
    assert!(
        msft.last_error
            .as_deref()
            .unwrap()
            .contains("history from 2024-01-02 only"),
        "a backfill learns where the provider's history starts"
    );
    assert_eq!(w.provider.calls_for("ZZZZ"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_defers_the_rest_of_the_batch_instead_of_asking_for_each_symbol() {
    let w = world();
    for symbol in ["AAA", "BBB", "CCC"] {
        w.store.track_symbol(sym(symbol), start()).await.unwrap();
    }
    w.provider.then("AAA", Err(rate_limited()));
    w.ingestor
        .enqueue_session(date("2026-11-24"))
        .await
        .unwrap();
    let report = w.next("w1").await.unwrap();
    assert_eq!(report.status, JobStatus::Queued);
    assert_eq!(w.provider.total_calls(), 1, "BBB and CCC were not asked");
    let job = w.store.job(report.id).await.unwrap().unwrap();
    assert_eq!(job.symbols, [sym("AAA"), sym("BBB"), sym("CCC")]);
    assert!(job.last_error.unwrap().contains("2 more deferred"));
}

#[tokio::test(start_paused = true)]
async fn a_spent_daily_quota_defers_symbols_without_calling_the_provider() {
    let limits = QuotaLimits {
        per_day: 2,
        ..QuotaLimits::UNLIMITED
    };
    let w = world_with(Some(limits), IngestConfig::default());
    let symbols = [sym("AAA"), sym("BBB"), sym("CCC")];
    w.ingestor
        .enqueue_backfill(&symbols, date("2024-01-01"), None)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    while let Some(report) = w.next("w1").await {
        statuses.push(report.status);
    }
    assert_eq!(
        statuses,
        [
            JobStatus::Succeeded,
            JobStatus::Succeeded,
            JobStatus::Queued
        ]
    );
    assert_eq!(w.provider.total_calls(), 2, "the quota is never overspent");
}

#[tokio::test(start_paused = true)]
async fn ingestion_spends_the_calls_reserved_for_it_after_requests_spent_their_share() {
    let limits = QuotaLimits {
        per_minute: 5,
        per_day: 25,
        reserved_per_minute: 2,
        reserved_per_day: 10,
    };
    let w = world_with(Some(limits), IngestConfig::default());
    for symbol in ["R1", "R2", "R3"] {
        w.market.daily(sym(symbol)).await.unwrap();
    }
    assert!(
        w.market.daily(sym("R4")).await.is_err(),
        "requests stop at 5 - 2 a minute"
    );
    let symbols = [sym("AAA"), sym("BBB")];
    w.ingestor
        .enqueue_backfill(&symbols, date("2024-01-01"), None)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    while let Some(report) = w.next("w1").await {
        statuses.push(report.status);
    }
    assert_eq!(statuses, [JobStatus::Succeeded, JobStatus::Succeeded]);
    assert_eq!(
        w.provider.total_calls(),
        5,
        "both reserved calls were spent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_whose_worker_died_is_reclaimed_after_the_lease_and_completed() {
    let w = world();
    w.ingestor
        .enqueue_backfill(&[sym("MSFT")], date("2024-01-01"), None)
        .await
        .unwrap();
    // A worker claims it and dies without a word.
    let now = w.clock.now();
    let dead = w
        .store
        .claim_job("dead-worker", now, now + chrono::Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert!(w.next("w2").await.is_none());
    tokio::time::advance(Duration::from_secs(31)).await;
    let report = w.next("w2").await.unwrap();
    assert_eq!(report.id, dead.id);
    assert_eq!(report.status, JobStatus::Succeeded);
    let job = w.store.job(dead.id).await.unwrap().unwrap();
    assert_eq!((job.attempts, job.worker.as_deref()), (2, Some("w2")));
}

#[tokio::test(start_paused = true)]
async fn workers_drain_a_backfill_together_and_stop_when_asked() {
    let config = IngestConfig {
        workers: 3,
        ..IngestConfig::default()
    };
    let w = world_with(None, config);
    *w.provider.delay.lock().unwrap() = Duration::from_millis(250);
    let symbols: Vec<Symbol> = (0..12).map(|n| sym(&format!("S{n}"))).collect();
    let enqueued = w
        .ingestor
        .enqueue_backfill(&symbols, date("2024-01-01"), None)
        .await
        .unwrap();
    let (stop_sender, stop) = Stop::channel();
    let workers: Vec<_> = (0..3)
        .map(|n| {
            let ingestor = w.ingestor.clone();
            let stop = stop.clone();
            tokio::spawn(async move { ingestor.run_worker(format!("w{n}"), stop).await })
        })
        .collect();
    for _ in 0..100 {
        let counts = w.store.job_counts(Some(&enqueued.group)).await.unwrap();
        if counts.pending() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_sender.send(true).unwrap();
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(5), worker)
            .await
            .expect("a worker stops when asked")
            .unwrap();
    }
    let counts = w.store.job_counts(Some(&enqueued.group)).await.unwrap();
    assert_eq!(counts.succeeded, 12);
    assert_eq!(w.provider.total_calls(), 12, "each symbol fetched once");
    let workers_used: std::collections::BTreeSet<_> = w
        .store
        .jobs(&JobFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|j| j.worker)
        .collect();
    assert!(workers_used.len() > 1, "work was shared: {workers_used:?}");
}

#[tokio::test(start_paused = true)]
async fn a_stopping_worker_hands_the_rest_of_its_job_back_at_once() {
    let w = world();
    w.ingestor
        .enqueue_backfill(&[sym("MSFT")], date("2024-01-01"), None)
        .await
        .unwrap();
    let (stop_sender, stop) = Stop::channel();
    stop_sender.send(true).unwrap();
    let report = w.ingestor.run_next("w1", &stop).await.unwrap().unwrap();
    assert_eq!(report.status, JobStatus::Queued);
    assert_eq!(w.provider.total_calls(), 0);
    let job = w.store.job(report.id).await.unwrap().unwrap();
    assert_eq!(
        job.run_at,
        w.clock.now(),
        "no backoff: it can run again now"
    );
    let resumed = w.next("w2").await.unwrap();
    assert_eq!(resumed.status, JobStatus::Succeeded);
}

/// Sessions of the daily jobs enqueued so far, in order.
async fn scheduled_sessions(store: &MemoryStore) -> Vec<String> {
    let mut groups: Vec<String> = store
        .jobs(&JobFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == JobKind::Daily)
        .map(|j| j.group)
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_catches_up_then_follows_the_nyse_calendar() {
    let w = world();
    w.store.track_symbol(sym("MSFT"), start()).await.unwrap();
    let schedule = Schedule::new("30 17 * * 1-5", "America/New_York").unwrap();
    let (stop_sender, stop) = Stop::channel();
    let scheduler = tokio::spawn(run_scheduler(w.ingestor.clone(), schedule, stop));

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        scheduled_sessions(&w.store).await,
        ["daily:2026-11-24"],
        "at 10:00 on Wednesday the newest closed session is Tuesday's"
    );

    // Wednesday 17:30 New York = 22:30 UTC, 7.5 h after the start.
    tokio::time::sleep(Duration::from_secs(7 * 3_600 + 31 * 60)).await;
    assert_eq!(
        scheduled_sessions(&w.store).await,
        ["daily:2026-11-24", "daily:2026-11-25"]
    );

    // Thanksgiving passes without a run; Friday's early-close session is ingested.
    tokio::time::sleep(Duration::from_secs(48 * 3_600)).await;
    assert_eq!(
        scheduled_sessions(&w.store).await,
        ["daily:2026-11-24", "daily:2026-11-25", "daily:2026-11-27"]
    );
    let jobs = w.store.jobs(&JobFilter::default()).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.to.map(|d| j.group.ends_with(&d.to_string())) == Some(true)),
        "each run's bars stop at its session"
    );
    stop_sender.send(true).unwrap();
    scheduler.await.unwrap();
}

#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<(Symbol, RangeInclusive<i32>)>>,
}

#[async_trait]
impl Archiver for Recorder {
    async fn archive(
        &self,
        store: &dyn Bars,
        symbol: Symbol,
        years: RangeInclusive<i32>,
    ) -> Result<u64, String> {
        let series = store.load_series(symbol).await.map_err(|e| e.to_string())?;
        self.calls.lock().unwrap().push((symbol, years));
        Ok(series.map_or(0, |s| s.bars().len() as u64))
    }
}

#[tokio::test(start_paused = true)]
async fn a_finished_run_is_archived_once_with_every_symbol_of_the_run() {
    let recorder = Arc::new(Recorder::default());
    let mut w = world();
    w.ingestor = w.ingestor.clone().with_archiver(recorder.clone());
    let enqueued = w
        .ingestor
        .enqueue_backfill(&[sym("MSFT"), sym("AAPL")], date("2023-06-01"), None)
        .await
        .unwrap();
    let mut kinds = Vec::new();
    while let Some(report) = w.next("w1").await {
        kinds.push(report.kind);
    }
    assert_eq!(
        kinds,
        [JobKind::Backfill, JobKind::Backfill, JobKind::Archive],
        "the archive runs after the last fetch"
    );
    let mut calls = recorder.calls.lock().unwrap().clone();
    calls.sort_by_key(|(symbol, _)| *symbol);
    assert_eq!(
        calls,
        [(sym("AAPL"), 2023..=2026), (sym("MSFT"), 2023..=2026)]
    );
    let counts = w.store.job_counts(Some(&enqueued.group)).await.unwrap();
    assert_eq!((counts.succeeded, counts.pending()), (3, 0));
}

/// Records each hook call with the bars stored for its symbols at that moment.
#[derive(Debug)]
struct FetchRecorder {
    store: Arc<MemoryStore>,
    calls: Mutex<Vec<(Vec<Symbol>, usize)>>,
}

#[async_trait]
impl AfterFetch for FetchRecorder {
    async fn fetched(&self, symbols: &[Symbol]) {
        let mut bars = 0;
        for symbol in symbols {
            if let Some(series) = self.store.load_series(*symbol).await.unwrap() {
                bars += series.bars().len();
            }
        }
        self.calls.lock().unwrap().push((symbols.to_vec(), bars));
    }
}

#[tokio::test(start_paused = true)]
async fn the_after_fetch_hook_sees_each_fetch_job_s_symbols_once_their_bars_are_stored() {
    let mut w = world();
    let recorder = Arc::new(FetchRecorder {
        store: w.store.clone(),
        calls: Mutex::default(),
    });
    w.ingestor = w.ingestor.clone().with_after_fetch(recorder.clone());
    w.provider.then("AAPL", Err(upstream_error()));
    w.ingestor
        .enqueue_backfill(&[sym("MSFT"), sym("AAPL")], date("2024-01-02"), None)
        .await
        .unwrap();
    while w.next("w1").await.is_some() {}
    // AAPL's retry is due after its backoff.
    tokio::time::advance(Duration::from_secs(120)).await;
    while w.next("w1").await.is_some() {}
    let calls = recorder.calls.lock().unwrap().clone();
    // MSFT's job once; AAPL's job after its failed attempt (older bars: none) and its retry.
    assert!(calls.contains(&(vec![sym("MSFT")], 4)), "{calls:?}");
    assert!(calls.contains(&(vec![sym("AAPL")], 0)), "{calls:?}");
    assert!(calls.contains(&(vec![sym("AAPL")], 4)), "{calls:?}");
    assert_eq!(calls.len(), 3, "{calls:?}");
}
