//! The store conformance suite: behaviour every backend must show. Each test runs against a
//! fresh, migrated database of every backend: SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set (required under CI; see `common`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::backends;
use domain::{Bar, Price, Series, Symbol};
use store::{Bars, SqliteStore, Store};

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

#[tokio::test]
async fn a_stored_series_loads_back_exactly() {
    for (_keep, store) in backends().await {
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
    for (_keep, store) in backends().await {
        assert!(store.load_series(symbol("NOPE")).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn upserting_the_same_bars_twice_neither_doubles_nor_rewrites_them() {
    for (_keep, store) in backends().await {
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
    for (_keep, store) in backends().await {
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
    for (_keep, store) in backends().await {
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
    for (_keep, store) in backends().await {
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

#[tokio::test]
async fn a_bar_whose_adjusted_close_alone_changed_is_rewritten() {
    for (_keep, store) in backends().await {
        let now = Utc::now();
        let adjusted = bar("2024-01-04", "10");
        let unadjusted = Bar {
            adj_close: None,
            ..adjusted
        };
        store
            .upsert_series(&series("IBM", vec![adjusted], "sample", now))
            .await
            .unwrap();
        let changed = store
            .upsert_series(&series("IBM", vec![unadjusted], "sample", now))
            .await
            .unwrap();
        assert_eq!(changed, 1, "backend {}", store.backend());
        let loaded = store.load_series(symbol("IBM")).await.unwrap().unwrap();
        assert_eq!(loaded.bars()[0].adj_close, None);
    }
}

#[tokio::test]
async fn tracking_a_symbol_is_idempotent_and_keeps_the_first_time() {
    for (_keep, store) in backends().await {
        let first: DateTime<Utc> = "2024-01-05T21:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2024-02-01T09:30:00Z".parse().unwrap();
        assert!(store.track_symbol(symbol("msft"), first).await.unwrap().1);
        assert!(
            !store.track_symbol(symbol("MSFT"), later).await.unwrap().1,
            "{}",
            store.backend()
        );
        assert!(store.track_symbol(symbol("AAPL"), later).await.unwrap().1);
        let tracked = store.tracked_symbols().await.unwrap();
        let names: Vec<&str> = tracked.iter().map(|t| t.symbol.as_str()).collect();
        assert_eq!(names, ["AAPL", "MSFT"], "{}", store.backend());
        assert_eq!(tracked[1].added_at, first, "{}", store.backend());
        let (again, added) = store.track_symbol(symbol("MSFT"), later).await.unwrap();
        assert_eq!(
            (again.added_at, added),
            (first, false),
            "{}",
            store.backend()
        );
    }
}

#[tokio::test]
async fn untracking_removes_the_symbol_but_keeps_its_bars() {
    for (_keep, store) in backends().await {
        store
            .upsert_series(&series(
                "IBM",
                vec![bar("2024-01-05", "1")],
                "sample",
                Utc::now(),
            ))
            .await
            .unwrap();
        store.track_symbol(symbol("IBM"), Utc::now()).await.unwrap();
        assert!(store.untrack_symbol(symbol("IBM")).await.unwrap());
        assert!(
            !store.untrack_symbol(symbol("IBM")).await.unwrap(),
            "{}",
            store.backend()
        );
        assert!(store.tracked_symbols().await.unwrap().is_empty());
        assert!(store.load_series(symbol("IBM")).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn stored_symbols_are_every_symbol_with_bars_tracked_or_not() {
    for (_keep, store) in backends().await {
        assert!(store.stored_symbols().await.unwrap().is_empty());
        for (text, source) in [("MSFT", "sample"), ("ZZIMP", "import"), ("^GSPC", "yahoo")] {
            store
                .upsert_series(&series(
                    text,
                    vec![bar("2024-01-05", "1")],
                    source,
                    Utc::now(),
                ))
                .await
                .unwrap();
        }
        store
            .track_symbol(symbol("AAPL"), Utc::now())
            .await
            .unwrap();
        let stored: Vec<String> = store
            .stored_symbols()
            .await
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(stored, ["MSFT", "ZZIMP", "^GSPC"], "{}", store.backend());
    }
}

/// `count` consecutive days of distinct bars, every 7th without an adjusted close.
fn long_history(count: u64, cents: u64) -> Vec<Bar> {
    let start: chrono::NaiveDate = "1950-01-02".parse().unwrap();
    (0..count)
        .map(|i| {
            let close = Price::from_raw(((1_000 + (i * 37 + cents) % 90_000) * 10_000_000) as i64);
            let high = Price::from_raw(close.raw() + 5_000_000);
            Bar {
                date: start + chrono::Days::new(i),
                open: close,
                high,
                low: close,
                close,
                volume: i * 1_000,
                adj_close: (i % 7 != 0).then_some(high),
            }
        })
        .collect()
}

#[tokio::test]
async fn a_series_larger_than_any_statement_round_trips_exactly() {
    // 30,000 bars: more than one statement of every backend's bulk write.
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let fetched_at: DateTime<Utc> = "2024-01-05T21:00:00.123456Z".parse().unwrap();
        let stored = series("BIG", long_history(30_000, 0), "import", fetched_at);
        assert_eq!(
            store.upsert_series(&stored).await.unwrap(),
            30_000,
            "{backend}"
        );
        let loaded = store.load_series(symbol("BIG")).await.unwrap().unwrap();
        assert_eq!(loaded, stored, "{backend}");
        assert_eq!(
            store.upsert_series(&stored).await.unwrap(),
            0,
            "{backend}: identical bars are not rewritten"
        );
        // Change 3 bars (one only in its adjusted close), across statement boundaries.
        let mut bars = stored.bars().to_vec();
        for index in [0, 4_000, 29_999] {
            bars[index].volume += 1;
        }
        bars[25_000].adj_close = None;
        let changed = series("BIG", bars, "import", fetched_at);
        assert_eq!(store.upsert_series(&changed).await.unwrap(), 4, "{backend}");
        let loaded = store.load_series(symbol("BIG")).await.unwrap().unwrap();
        assert_eq!(loaded, changed, "{backend}");
    }
}

#[tokio::test]
async fn a_batch_counts_each_series_as_single_upserts_would() {
    for (_keep, store) in backends().await {
        let backend = store.backend();
        let now: DateTime<Utc> = "2024-01-05T21:00:00Z".parse().unwrap();
        store
            .upsert_series(&series(
                "OLD",
                long_history(10, 0),
                "import",
                now - Duration::days(1),
            ))
            .await
            .unwrap();
        let batch = [
            series("NEW", long_history(5_000, 1), "import", now),
            // Same bars as stored, then 2 more: 2 changed.
            series("OLD", long_history(12, 0), "import", now),
            series("EMPTY", Vec::new(), "import", now),
            // The same symbol again in one batch: later series win, as in successive calls.
            series("NEW", long_history(3, 2), "import", now),
        ];
        let counts = store.upsert_many(&batch).await.unwrap();
        assert_eq!(counts, [5_000, 2, 0, 3], "{backend}");
        let new = store.load_series(symbol("NEW")).await.unwrap().unwrap();
        assert_eq!(new.bars().len(), 5_000, "{backend}");
        assert_eq!(&new.bars()[..3], batch[3].bars(), "{backend}");
        assert_eq!(&new.bars()[3..], &batch[0].bars()[3..], "{backend}");
        let old = store.load_series(symbol("OLD")).await.unwrap().unwrap();
        assert_eq!(old.fetched_at, now, "{backend}: the fetch record moved");
        assert_eq!(old.bars(), batch[1].bars(), "{backend}");
        let empty = store.load_series(symbol("EMPTY")).await.unwrap();
        assert!(empty.is_none_or(|s| s.is_empty()), "{backend}");
        assert_eq!(
            store.upsert_many(&batch[..2]).await.unwrap(),
            [3, 0],
            "{backend}: NEW's first 3 bars go back to the first version"
        );
        assert!(store.upsert_many(&[]).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn stored_bars_are_a_date_range_with_each_rows_own_provenance() {
    for (_keep, store) in backends().await {
        let first: DateTime<Utc> = "2024-01-05T21:00:00.123456Z".parse().unwrap();
        let second = first + Duration::days(1);
        store
            .upsert_series(&series(
                "IBM",
                vec![
                    bar("2023-12-29", "9"),
                    bar("2024-01-04", "10"),
                    bar("2024-01-05", "11"),
                ],
                "sample",
                first,
            ))
            .await
            .unwrap();
        store
            .upsert_series(&series(
                "IBM",
                vec![bar("2024-01-05", "12")],
                "yahoo",
                second,
            ))
            .await
            .unwrap();
        let from = "2024-01-01".parse().unwrap();
        let to = "2024-12-31".parse().unwrap();
        let stored = store.stored_bars(symbol("IBM"), from, to).await.unwrap();
        let dates: Vec<String> = stored.iter().map(|s| s.bar.date.to_string()).collect();
        assert_eq!(
            dates,
            ["2024-01-04", "2024-01-05"],
            "backend {}",
            store.backend()
        );
        assert_eq!(stored[1].bar.close.to_string(), "12");
        assert_eq!(
            (stored[1].source.as_str(), stored[1].fetched_at),
            ("yahoo", second)
        );
        // The databases keep each row's fetch; the memory store keeps one per series.
        let expected = if store.backend() == "memory" {
            ("yahoo", second)
        } else {
            ("sample", first)
        };
        assert_eq!(
            (stored[0].source.as_str(), stored[0].fetched_at),
            expected,
            "backend {}",
            store.backend()
        );
        assert!(
            store
                .stored_bars(symbol("NOPE"), from, to)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn stored_years_are_whole_calendar_years_and_any_range_of_years_is_safe() {
    for (_keep, store) in backends().await {
        let at: DateTime<Utc> = "2025-01-06T21:00:00Z".parse().unwrap();
        store
            .upsert_series(&series(
                "IBM",
                vec![
                    bar("2022-12-30", "8"),
                    bar("2023-01-03", "9"),
                    bar("2023-12-29", "10"),
                    bar("2024-01-02", "11"),
                ],
                "sample",
                at,
            ))
            .await
            .unwrap();
        let dates = |stored: Vec<store::StoredBar>| -> Vec<String> {
            stored.iter().map(|s| s.bar.date.to_string()).collect()
        };
        let backend = store.backend();
        assert_eq!(
            dates(
                store
                    .stored_years(symbol("IBM"), 2023..=2023)
                    .await
                    .unwrap()
            ),
            ["2023-01-03", "2023-12-29"],
            "backend {backend}"
        );
        // Unbounded years (what `stockd archive` asks without --from/--to) read everything.
        assert_eq!(
            dates(
                store
                    .stored_years(symbol("IBM"), i32::MIN..=i32::MAX)
                    .await
                    .unwrap()
            )
            .len(),
            4,
            "backend {backend}"
        );
        assert!(
            store
                .stored_years(symbol("IBM"), std::ops::RangeInclusive::new(2024, 2023))
                .await
                .unwrap()
                .is_empty(),
            "an empty range of years reads nothing, backend {backend}"
        );
    }
}
