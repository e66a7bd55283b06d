//! News ingestion over the `sim` source and the in-memory store, on tokio's paused clock: the
//! schedule's slots (one run per slot however many schedulers fire, none on a closed day),
//! watched symbols included, and each source asked from its own cursor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use domain::news::NewsItem;
use ingest::{
    IngestConfig, Ingestor, NewsIngestConfig, NewsSchedule, Schedule, Stop, run_news_scheduler,
};
use market::{Clock, Market, MarketConfig};
use providers::ProviderError;
use providers::news::NewsSource;
use providers::news::sim::SimNews;
use store::{JobFilter, JobKind, MemoryStore, NewUser, NewsPage, Store};

fn sym(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The sim source, recording the `since` of every call.
#[derive(Debug)]
struct Recording {
    inner: SimNews,
    calls: Mutex<Vec<(Symbol, Option<DateTime<Utc>>)>>,
}

#[async_trait]
impl NewsSource for Recording {
    fn name(&self) -> &'static str {
        "sim"
    }

    async fn news(
        &self,
        symbol: Symbol,
        since: Option<DateTime<Utc>>,
        limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        self.calls.lock().unwrap().push((symbol, since));
        self.inner.news(symbol, since, limit).await
    }
}

fn ingestor(store: Arc<dyn Store>, source: Arc<dyn NewsSource>, clock: Clock) -> Ingestor {
    let config = MarketConfig {
        clock,
        ..MarketConfig::default()
    };
    let market = Arc::new(Market::with_sources(
        Vec::new(),
        Vec::new(),
        vec![source],
        store.clone(),
        config,
    ));
    let config = IngestConfig {
        workers: 1,
        poll_interval: Duration::from_millis(50),
        ..IngestConfig::default()
    };
    Ingestor::new(market, store, config)
        .with_clock(clock)
        .with_news(NewsIngestConfig {
            limit: 10,
            lookback: Duration::from_secs(24 * 3600),
        })
}

async fn news_jobs(store: &dyn Store) -> Vec<store::Job> {
    store
        .jobs(&JobFilter {
            limit: 1_000,
            ..JobFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.kind == JobKind::News)
        .collect()
}

/// Runs due jobs until none is left.
async fn drain(ingestor: &Ingestor) {
    let (_stop, stop) = Stop::channel();
    while ingestor.run_next("test", &stop).await.unwrap().is_some() {}
}

fn every_half_hour(trading_days_only: bool) -> NewsSchedule {
    NewsSchedule {
        schedule: Schedule::new("*/30 * * * *", "America/New_York").unwrap(),
        trading_days_only,
    }
}

#[tokio::test(start_paused = true)]
async fn two_schedulers_enqueue_one_run_per_slot() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let start = utc("2026-12-02T15:10:00Z"); // a Wednesday, 10:10 in New York
    store.track_symbol(sym("MSFT"), start).await.unwrap();
    let clock = Clock::tokio_from(start);
    let source = Arc::new(SimNews::anchored(7, start));
    let (stop_all, stop) = Stop::channel();
    for _ in 0..2 {
        let ingestor = ingestor(store.clone(), source.clone(), clock);
        tokio::spawn(run_news_scheduler(
            ingestor,
            every_half_hour(true),
            stop.clone(),
        ));
    }
    // Past two fires (15:30 and 16:00 UTC) after the start's catch-up slot (15:00).
    tokio::time::sleep(Duration::from_secs(55 * 60)).await;
    stop_all.send(true).unwrap();
    let jobs = news_jobs(store.as_ref()).await;
    let mut groups: Vec<&str> = jobs.iter().map(|job| job.group.as_str()).collect();
    groups.sort_unstable();
    assert_eq!(
        groups,
        [
            "news:2026-12-02T15:00Z",
            "news:2026-12-02T15:30Z",
            "news:2026-12-02T16:00Z"
        ],
        "one job per slot, whichever scheduler fired first"
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_market_day_runs_nothing_unless_every_day_is_asked_for() {
    // Saturday 2026-12-05, 10:10 in New York.
    let start = utc("2026-12-05T15:10:00Z");
    for (trading_days_only, expected) in [(true, 0), (false, 2)] {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        store.track_symbol(sym("MSFT"), start).await.unwrap();
        let clock = Clock::tokio_from(start);
        let ingestor = ingestor(store.clone(), Arc::new(SimNews::anchored(7, start)), clock);
        let (stop_all, stop) = Stop::channel();
        let task = tokio::spawn(run_news_scheduler(
            ingestor,
            every_half_hour(trading_days_only),
            stop,
        ));
        tokio::time::sleep(Duration::from_secs(25 * 60)).await;
        stop_all.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(
            news_jobs(store.as_ref()).await.len(),
            expected,
            "trading_days_only = {trading_days_only}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn watched_symbols_get_news_and_a_second_run_asks_only_since_the_cursor() {
    let start = utc("2026-12-02T15:10:00Z");
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store.track_symbol(sym("MSFT"), start).await.unwrap();
    let user = store
        .create_user(
            &NewUser {
                email: "watcher@example.com".into(),
                display_name: None,
                password_hash: "x".into(),
                is_admin: false,
            },
            start,
        )
        .await
        .unwrap()
        .unwrap();
    store.watch(&user.id, sym("AAPL"), start).await.unwrap();
    let source = Arc::new(Recording {
        inner: SimNews::anchored(7, start),
        calls: Mutex::new(Vec::new()),
    });
    let clock = Clock::tokio_from(start);
    let ingestor = ingestor(store.clone(), source.clone(), clock);

    ingestor
        .enqueue_news(utc("2026-12-02T15:00:00Z"))
        .await
        .unwrap();
    drain(&ingestor).await;
    let first_since = start - chrono::Duration::hours(24);
    let mut calls = source.calls.lock().unwrap().clone();
    calls.sort();
    assert_eq!(
        calls,
        [
            (sym("AAPL"), Some(first_since)),
            (sym("MSFT"), Some(first_since))
        ],
        "a source without a cursor is read `lookback` back"
    );
    let stored = |symbol| {
        let store = store.clone();
        async move {
            store
                .symbol_news(symbol, None, NewsPage::first(100))
                .await
                .unwrap()
        }
    };
    let msft = stored(sym("MSFT")).await;
    assert_eq!(
        msft.len(),
        4,
        "one simulated article every 6 hours over a day"
    );
    assert_eq!(stored(sym("AAPL")).await.len(), 4, "watched symbols too");
    let cursor = store
        .news_cursor("sim", sym("MSFT"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.published_at, msft[0].published_at);

    source.calls.lock().unwrap().clear();
    tokio::time::sleep(Duration::from_secs(30 * 60)).await;
    ingestor
        .enqueue_news(utc("2026-12-02T15:30:00Z"))
        .await
        .unwrap();
    drain(&ingestor).await;
    let calls = source.calls.lock().unwrap().clone();
    assert!(
        calls.contains(&(sym("MSFT"), Some(cursor.published_at))),
        "{calls:?}"
    );
    assert_eq!(stored(sym("MSFT")).await, msft, "nothing stored twice");
    let jobs = news_jobs(store.as_ref()).await;
    assert!(
        jobs.iter().all(|j| j.status == store::JobStatus::Succeeded),
        "{jobs:?}"
    );
}
