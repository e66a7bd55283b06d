//! Stored signals keep up with the read path, on every store backend (SQLite, memory, and
//! PostgreSQL when `STOCKD_TEST_POSTGRES_URL` is set): when a read stores a daily bar newer than
//! the latest stored signal, the next signal read computes and stores the missing days once and
//! answers them; when they cannot be computed, it answers the stored ones marked stale.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{Series, Signal, Symbol};
use market::{Market, MarketConfig, Unmetered};
use providers::MarketData;
use service::Service;
use service::signals::SignalOrigin;
use store::Store;

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

/// The bundled MSFT history, as the sample provider serves it.
async fn sample_msft() -> Series {
    providers::sample::Sample::new()
        .daily(msft())
        .await
        .unwrap()
}

/// The service over `store`, reading through the sample provider.
fn service(store: Arc<dyn Store>) -> Service {
    let sample: Arc<dyn MarketData> = Arc::new(providers::sample::Sample::new());
    let market = Arc::new(Market::new(sample, store.clone(), MarketConfig::default()));
    Service::new(store, market, service::Settings::default())
}

/// Every bundled bar but the last, stored by an ingest run long ago (so a read asks the
/// provider again), and the signals that run stored; returns the day of the last bar left out.
async fn ingested_all_but_the_last_bar(service: &Service, store: &dyn Store) -> NaiveDate {
    let series = sample_msft().await;
    let bars = series.bars();
    let long_ago: DateTime<Utc> = "2020-01-02T22:00:00Z".parse().unwrap();
    let ingested = Series::new(msft(), bars[..bars.len() - 1].to_vec(), "sample", long_ago);
    store.upsert_series(&ingested).await.unwrap();
    let refresh = service.refresh_signals(&[msft()]).await.unwrap();
    assert_eq!(refresh.stored as usize, bars.len() - 1 - 19);
    bars.last().unwrap().date
}

async fn stored_signals(service: &Service, store: &dyn Store) -> Vec<Signal> {
    let method = service.signal_method().unwrap();
    let first = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    store
        .signals(msft(), method.name(), first, last, 10_000)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bar_stored_by_a_read_brings_the_stored_signal_up_to_its_day_once() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let service = service(store.clone());
        let last_day = ingested_all_but_the_last_bar(&service, store.as_ref()).await;
        let before = stored_signals(&service, store.as_ref()).await;
        assert!(before.last().unwrap().day < last_day, "{backend}");

        // A user reads the prices: the read path fetches and stores the newer bar.
        let served = service.market().daily(msft()).await.unwrap();
        assert_eq!(served.value.latest().unwrap().date, last_day, "{backend}");

        let latest = service.latest_signal(msft(), &Unmetered).await.unwrap();
        assert_eq!(
            latest.value.day, last_day,
            "{backend}: the day of the last bar"
        );
        assert_eq!(
            latest.origin,
            SignalOrigin::Stored { stale: false },
            "{backend}"
        );
        let after = stored_signals(&service, store.as_ref()).await;
        assert_eq!(
            after.len(),
            before.len() + 1,
            "{backend}: the missing day, stored"
        );
        assert_eq!(after.last().unwrap(), &latest.value, "{backend}");

        let history = service
            .signal_history(msft(), before.last().map(|s| s.day), None, &Unmetered)
            .await
            .unwrap();
        let days: Vec<NaiveDate> = history.value.iter().map(|s| s.day).collect();
        assert_eq!(days, [before.last().unwrap().day, last_day], "{backend}");
        assert_eq!(
            history.origin,
            SignalOrigin::Stored { stale: false },
            "{backend}"
        );

        // Asking again, or an ingest run after it, stores nothing new and announces nothing.
        let again = service.latest_signal(msft(), &Unmetered).await.unwrap();
        assert_eq!(
            again.value, latest.value,
            "{backend}: the stored one, as it was"
        );
        let refresh = service.refresh_signals(&[msft()]).await.unwrap();
        assert_eq!((refresh.stored, refresh.changes.len()), (0, 0), "{backend}");
        assert_eq!(
            stored_signals(&service, store.as_ref()).await,
            after,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn concurrent_reads_and_a_second_replica_store_the_new_day_once() {
    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let service = service(store.clone());
        // A second replica: its own read path and locks over the same store.
        let replica = self::service(store.clone());
        let last_day = ingested_all_but_the_last_bar(&service, store.as_ref()).await;
        let before = stored_signals(&service, store.as_ref()).await.len();
        service.market().daily(msft()).await.unwrap();
        replica.market().daily(msft()).await.unwrap();

        let (a, b, c, d) = tokio::join!(
            service.latest_signal(msft(), &Unmetered),
            service.signal_history(msft(), Some(last_day), None, &Unmetered),
            replica.latest_signal(msft(), &Unmetered),
            replica.signal_history(msft(), Some(last_day), None, &Unmetered),
        );
        assert_eq!(a.unwrap().value.day, last_day, "{backend}");
        assert_eq!(c.unwrap().value.day, last_day, "{backend}");
        for history in [b.unwrap(), d.unwrap()] {
            let days: Vec<NaiveDate> = history.value.iter().map(|s| s.day).collect();
            assert_eq!(days, [last_day], "{backend}");
        }
        let after = stored_signals(&service, store.as_ref()).await;
        assert_eq!(
            after.len(),
            before + 1,
            "{backend}: one row for the new day"
        );
    }
}

#[tokio::test]
async fn a_signal_that_cannot_be_brought_up_to_date_is_served_as_stored_and_marked_stale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stockd.db");
    let sqlite: Arc<dyn Store> = Arc::new(store::SqliteStore::open(&path).await.unwrap());
    let service = service(sqlite.clone());
    let last_day = ingested_all_but_the_last_bar(&service, sqlite.as_ref()).await;
    let before = stored_signals(&service, sqlite.as_ref()).await;

    // Writing signals fails from now on (a full disk, a lost connection).
    let url = format!("sqlite://{}", path.display());
    let mut admin = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(
        "create trigger no_signals before insert on signals \
         begin select raise(fail, 'disk full'); end",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    service.market().daily(msft()).await.unwrap();

    let latest = service.latest_signal(msft(), &Unmetered).await.unwrap();
    assert_eq!(&latest.value, before.last().unwrap(), "the stored one");
    assert!(latest.value.day < last_day);
    assert_eq!(latest.origin, SignalOrigin::Stored { stale: true });
    let history = service
        .signal_history(msft(), None, None, &Unmetered)
        .await
        .unwrap();
    assert_eq!(history.value, before);
    assert_eq!(history.origin, SignalOrigin::Stored { stale: true });

    // Once signals can be written again, the next read catches up.
    sqlx::query("drop trigger no_signals")
        .execute(&mut admin)
        .await
        .unwrap();
    let latest = service.latest_signal(msft(), &Unmetered).await.unwrap();
    assert_eq!(
        (latest.value.day, latest.origin),
        (last_day, SignalOrigin::Stored { stale: false })
    );
}
