//! Provider usage on every backend (SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set): counts add within a UTC minute and day, newer windows
//! start again, concurrent recorders lose nothing, and a SQLite file remembers across a reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use store::{MemoryStore, ProviderPause, ProviderUsage, SqliteStore, Store, UsageCounts};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn calls(counts: UsageCounts) -> (u64, u64) {
    (counts.minute_calls, counts.day_calls)
}

type Keep = Box<dyn Debug + Send>;

/// Fresh stores of every available backend.
async fn backends() -> Vec<(Keep, Arc<dyn Store>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("stockd.db"))
        .await
        .unwrap();
    let mut stores: Vec<(Keep, Arc<dyn Store>)> = vec![
        (Box::new(dir), Arc::new(sqlite)),
        (Box::new(()), Arc::new(MemoryStore::new())),
    ];
    if let Some(admin_url) = common::postgres_admin_url() {
        let database = common::TestPostgres::create(&admin_url).await;
        let postgres = store::open(&database.url).await.unwrap();
        stores.push((Box::new(database), postgres));
    }
    stores
}

#[tokio::test]
async fn a_provider_never_called_has_spent_nothing() {
    for (_keep, store) in backends().await {
        let now = at("2026-11-28T10:00:30Z");
        let usage = store.provider_usage("alphavantage", now).await.unwrap();
        assert_eq!(
            usage,
            UsageCounts::empty(now),
            "backend {}",
            store.backend()
        );
        assert_eq!(usage.minute, at("2026-11-28T10:00:00Z"));
        assert_eq!(usage.day.to_string(), "2026-11-28");
    }
}

#[tokio::test]
async fn calls_add_within_a_minute_and_a_day_and_newer_windows_start_again() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let record = |calls, when| {
            let store = store.clone();
            async move {
                store
                    .record_provider_calls("alphavantage", calls, at(when))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            calls(record(1, "2026-11-28T10:00:05Z").await),
            (1, 1),
            "{backend}"
        );
        assert_eq!(
            calls(record(2, "2026-11-28T10:00:59.999Z").await),
            (3, 3),
            "{backend}"
        );
        let next_minute = record(1, "2026-11-28T10:01:00Z").await;
        assert_eq!(calls(next_minute), (1, 4), "{backend}");
        assert_eq!(next_minute.minute, at("2026-11-28T10:01:00Z"));

        // Reading writes nothing and sees the windows of the instant asked about.
        let read = |when| {
            let store = store.clone();
            async move {
                store
                    .provider_usage("alphavantage", at(when))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            calls(read("2026-11-28T10:01:30Z").await),
            (1, 4),
            "{backend}"
        );
        assert_eq!(
            calls(read("2026-11-28T10:02:00Z").await),
            (0, 4),
            "{backend}"
        );
        assert_eq!(
            calls(read("2026-11-29T00:00:00Z").await),
            (0, 0),
            "{backend}"
        );

        // The next UTC day starts both windows again.
        let next_day = record(1, "2026-11-29T00:00:00Z").await;
        assert_eq!(calls(next_day), (1, 1), "{backend}");
        assert_eq!(next_day.day.to_string(), "2026-11-29");

        // A late record for a day that has passed (a replica whose clock is behind) does not
        // reset the newer windows.
        assert_eq!(
            calls(record(7, "2026-11-28T23:59:59Z").await),
            (1, 1),
            "{backend}"
        );
        assert_eq!(
            calls(read("2026-11-29T00:00:30Z").await),
            (1, 1),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn providers_are_counted_apart() {
    for (_keep, store) in backends().await {
        let now = at("2026-11-28T10:00:00Z");
        store
            .record_provider_calls("polygon", 2, now)
            .await
            .unwrap();
        store
            .record_provider_calls("finnhub", 5, now)
            .await
            .unwrap();
        assert_eq!(
            calls(store.provider_usage("polygon", now).await.unwrap()),
            (2, 2)
        );
        assert_eq!(
            calls(store.provider_usage("finnhub", now).await.unwrap()),
            (5, 5)
        );
    }
}

#[tokio::test]
async fn concurrent_recorders_lose_no_call() {
    for (_keep, store) in backends().await {
        let now = at("2026-11-28T10:00:00Z");
        let recorders: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.record_provider_calls("yahoo", 1, now).await })
            })
            .collect();
        for recorder in recorders {
            recorder.await.unwrap().unwrap();
        }
        assert_eq!(
            calls(store.provider_usage("yahoo", now).await.unwrap()),
            (20, 20),
            "backend {}",
            store.backend()
        );
    }
}

#[tokio::test]
async fn usage_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stockd.db");
    let now = at("2026-11-28T10:00:00Z");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .record_provider_calls("alphavantage", 24, now)
            .await
            .unwrap();
    }
    let reopened = SqliteStore::open(&path).await.unwrap();
    let usage = reopened.provider_usage("alphavantage", now).await.unwrap();
    assert_eq!(calls(usage), (24, 24));
}

fn paused_until(until: &str) -> ProviderPause {
    ProviderPause {
        until: at(until),
        limit: "per_day".into(),
        detail: "Our standard API rate limit is 25 requests per day.".into(),
        since: at("2026-11-28T22:00:00Z"),
    }
}

#[tokio::test]
async fn a_pause_lasts_until_it_ends_and_the_longer_of_two_is_kept() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let now = at("2026-11-28T22:00:00Z");
        assert_eq!(
            store.provider_pause("alphavantage", now).await.unwrap(),
            None
        );
        let day = paused_until("2026-11-29T00:00:00Z");
        store.pause_provider("alphavantage", &day).await.unwrap();
        assert_eq!(
            store.provider_pause("alphavantage", now).await.unwrap(),
            Some(day.clone()),
            "{backend}"
        );
        // A shorter pause (another replica's minute) does not cut the day short.
        let minute = ProviderPause {
            limit: "per_minute".into(),
            ..paused_until("2026-11-28T22:01:00Z")
        };
        store.pause_provider("alphavantage", &minute).await.unwrap();
        assert_eq!(
            store
                .provider_pause("alphavantage", at("2026-11-28T23:59:59Z"))
                .await
                .unwrap(),
            Some(day.clone()),
            "{backend}"
        );
        assert_eq!(
            store.provider_pause("polygon", now).await.unwrap(),
            None,
            "{backend}"
        );
        // At the reset it is over; a later pause replaces it.
        assert_eq!(
            store
                .provider_pause("alphavantage", at("2026-11-29T00:00:00Z"))
                .await
                .unwrap(),
            None,
            "{backend}"
        );
        let next = paused_until("2026-11-30T00:00:00Z");
        store.pause_provider("alphavantage", &next).await.unwrap();
        assert_eq!(
            store
                .provider_pause("alphavantage", at("2026-11-29T10:00:00Z"))
                .await
                .unwrap(),
            Some(next),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_pause_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stockd.db");
    let day = paused_until("2026-11-29T00:00:00Z");
    SqliteStore::open(&path)
        .await
        .unwrap()
        .pause_provider("alphavantage", &day)
        .await
        .unwrap();
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened
            .provider_pause("alphavantage", at("2026-11-28T23:00:00Z"))
            .await
            .unwrap(),
        Some(day)
    );
}
