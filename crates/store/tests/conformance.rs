//! The store conformance suite: behaviour every backend must show. Each test runs against a
//! fresh, migrated database (SQLite here; PostgreSQL joins the list when it arrives).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::{Bar, Price, Series, Symbol};
use store::{MemoryStore, SqliteStore, Store};

fn symbol(text: &str) -> Symbol {
    Symbol::parse(text).unwrap()
}

fn bar(date: &str, close: &str) -> Bar {
    let close: Price = close.parse().unwrap();
    Bar::new_checked(
        date.parse().unwrap(),
        close,
        close,
        close,
        close,
        1_000,
        Some(close),
    )
    .unwrap()
}

fn series(text: &str, bars: Vec<Bar>, source: &str, fetched_at: DateTime<Utc>) -> Series {
    Series::new(symbol(text), bars, source, fetched_at)
}

/// Fresh stores of every available backend.
async fn backends() -> Vec<(tempfile::TempDir, Arc<dyn Store>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("nested/stockd.db"))
        .await
        .unwrap();
    vec![
        (dir, Arc::new(sqlite)),
        (tempfile::tempdir().unwrap(), Arc::new(MemoryStore::new())),
    ]
}

#[tokio::test]
async fn a_stored_series_loads_back_exactly() {
    for (_dir, store) in backends().await {
        let fetched_at = "2024-01-05T21:00:00Z".parse().unwrap();
        let stored = series(
            "MSFT",
            vec![
                bar("2024-01-04", "367.75"),
                bar("2024-01-05", "367.123456789"),
            ],
            "alphavantage",
            fetched_at,
        );
        assert_eq!(store.upsert_series(&stored).await.unwrap(), 2);
        let loaded = store.load_series(symbol("msft")).await.unwrap().unwrap();
        assert_eq!(loaded, stored, "backend {}", store.backend());
    }
}

#[tokio::test]
async fn unknown_symbols_load_as_none() {
    for (_dir, store) in backends().await {
        assert!(store.load_series(symbol("NOPE")).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn upserting_the_same_bars_twice_neither_doubles_nor_rewrites_them() {
    for (_dir, store) in backends().await {
        let first = Utc::now() - Duration::hours(1);
        let bars = vec![bar("2024-01-04", "10"), bar("2024-01-05", "11")];
        store
            .upsert_series(&series("IBM", bars.clone(), "sample", first))
            .await
            .unwrap();
        let again = store
            .upsert_series(&series("IBM", bars, "sample", Utc::now()))
            .await
            .unwrap();
        assert_eq!(again, 0, "identical bars are not rewritten");
        let loaded = store.load_series(symbol("IBM")).await.unwrap().unwrap();
        assert_eq!(loaded.bars().len(), 2);
        assert!(loaded.fetched_at > first, "the fetch record moves forward");
    }
}

#[tokio::test]
async fn a_refetch_corrects_changed_bars_and_adds_new_ones() {
    for (_dir, store) in backends().await {
        let now = Utc::now();
        store
            .upsert_series(&series(
                "AAPL",
                vec![bar("2024-01-04", "10"), bar("2024-01-05", "11")],
                "sample",
                now,
            ))
            .await
            .unwrap();
        let changed = store
            .upsert_series(&series(
                "AAPL",
                vec![bar("2024-01-05", "12"), bar("2024-01-08", "13")],
                "alphavantage",
                now,
            ))
            .await
            .unwrap();
        assert_eq!(changed, 2);
        let loaded = store.load_series(symbol("AAPL")).await.unwrap().unwrap();
        let closes: Vec<String> = loaded.bars().iter().map(|b| b.close.to_string()).collect();
        assert_eq!(closes, ["10", "12", "13"]);
        assert_eq!(loaded.source, "alphavantage");
    }
}

#[tokio::test]
async fn symbols_are_kept_apart() {
    for (_dir, store) in backends().await {
        let now = Utc::now();
        store
            .upsert_series(&series("A", vec![bar("2024-01-04", "1")], "sample", now))
            .await
            .unwrap();
        store
            .upsert_series(&series("B", vec![bar("2024-01-04", "2")], "sample", now))
            .await
            .unwrap();
        let a = store.load_series(symbol("A")).await.unwrap().unwrap();
        assert_eq!(a.bars().len(), 1);
        assert_eq!(a.bars()[0].close.to_string(), "1");
    }
}

#[tokio::test]
async fn thousands_of_bars_upsert_in_one_call() {
    for (_dir, store) in backends().await {
        let start: chrono::NaiveDate = "2000-01-01".parse().unwrap();
        let bars: Vec<Bar> = (0..5_000)
            .map(|i| {
                let date = start + chrono::Days::new(i);
                bar(&date.to_string(), &format!("{}.25", 10 + i % 7))
            })
            .collect();
        let count = store
            .upsert_series(&series("GOOG", bars, "sample", Utc::now()))
            .await
            .unwrap();
        assert_eq!(count, 5_000);
        assert_eq!(
            store
                .load_series(symbol("GOOG"))
                .await
                .unwrap()
                .unwrap()
                .bars()
                .len(),
            5_000
        );
    }
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stockd.db");
    let stored = series("MSFT", vec![bar("2024-01-05", "1.5")], "sample", Utc::now());
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.upsert_series(&stored).await.unwrap();
    }
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        reopened.load_series(symbol("MSFT")).await.unwrap().unwrap(),
        stored
    );
    reopened.ping().await.unwrap();
}
