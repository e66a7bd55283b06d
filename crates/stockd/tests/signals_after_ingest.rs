//! Signals after ingestion, on every store backend (SQLite, memory, and PostgreSQL when
//! `STOCKD_TEST_POSTGRES_URL` is set): the hook the ingestor calls after each fetch job stores
//! the new days' signals under the configured method and publishes a label change on the bus
//! when a symbol's latest label differs from the stored one (or is its first).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use bus::{Bus, BusConfig, Event, MemoryBus, SignalLabelChanged, StreamKind, Subscription};
use chrono::NaiveDate;
use domain::{Series, Signal, SignalsConfig, Symbol};
use ingest::AfterFetch;
use market::{Market, MarketConfig};
use providers::MarketData;
use stockd::signalling::SignalsAfterFetch;
use store::Store;

const METHOD: &str = "v1-f34f5ca0";

fn msft() -> Symbol {
    Symbol::parse("MSFT").unwrap()
}

fn hook(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> SignalsAfterFetch {
    let market = Arc::new(Market::with_providers(
        Vec::new(),
        Vec::new(),
        store.clone(),
        MarketConfig::default(),
    ));
    let settings = service::Settings {
        signals: SignalsConfig::default(),
        ..service::Settings::default()
    };
    SignalsAfterFetch::new(service::Service::new(store, market, settings), bus)
}

/// The bundled MSFT history, as ingestion would have stored it.
async fn sample_msft() -> Series {
    providers::sample::Sample::new()
        .daily(msft())
        .await
        .unwrap()
}

async fn stored_signals(store: &dyn Store) -> Vec<Signal> {
    let first = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    store
        .signals(msft(), &METHOD.parse().unwrap(), first, last, 10_000)
        .await
        .unwrap()
}

/// The label change waiting on `subscription` now, if any (the in-process bus delivers during
/// `publish`, so nothing published is still on its way).
async fn published(subscription: &mut Subscription) -> Option<SignalLabelChanged> {
    let delivery = tokio::time::timeout(Duration::ZERO, subscription.next())
        .await
        .ok()??;
    let Event::SignalLabelChanged(change) = delivery.event().clone() else {
        panic!("not a label change: {:?}", delivery.event());
    };
    delivery.ack().await.unwrap();
    Some(change)
}

/// Every day's signal of the bundled history, computed on a scratch store, and the index of
/// the last one whose label differs from the day before (every later day keeps its label).
async fn every_signal_and_the_last_label_change(series: &Series) -> (Vec<Signal>, usize) {
    let scratch: Arc<dyn Store> = Arc::new(store::MemoryStore::new());
    scratch.upsert_series(series).await.unwrap();
    let scratch_bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
    hook(scratch.clone(), scratch_bus).fetched(&[msft()]).await;
    let all = stored_signals(scratch.as_ref()).await;
    let changed = (1..all.len())
        .rev()
        .find(|&i| all[i].label != all[i - 1].label)
        .unwrap();
    (all, changed)
}

#[tokio::test]
async fn signals_are_stored_after_a_fetch_and_label_changes_go_on_the_bus() {
    let series = sample_msft().await;
    let bars = series.bars();

    // The last day whose label differs from the day before, found on a scratch store.
    let (all, changed) = every_signal_and_the_last_label_change(&series).await;
    assert_eq!(all.len(), bars.len() - 19, "every day from the 20th");
    let (before, after) = (&all[changed - 1], &all[changed]);
    let cut = bars.iter().position(|bar| bar.date == after.day).unwrap();

    for (_keep, store) in common::backends().await {
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
        let mut changes = bus.subscribe(StreamKind::Signals, "test").await.unwrap();
        let hook = hook(store.clone(), bus.clone());
        let backend = store.backend();

        // An ingest run that stored history up to the day before the change.
        let partial = Series::new(msft(), bars[..cut].to_vec(), "sample", series.fetched_at);
        store.upsert_series(&partial).await.unwrap();
        hook.fetched(&[msft()]).await;
        let stored = stored_signals(store.as_ref()).await;
        assert_eq!(stored.len(), cut - 19, "{backend}");
        assert_eq!(stored.last().unwrap().day, before.day, "{backend}");
        let first = published(&mut changes).await.expect("the first label");
        assert_eq!(
            (first.previous, first.label, first.day),
            (None, before.label, before.day),
            "{backend}"
        );
        assert_eq!(first.method.as_str(), METHOD);

        // The next run stores the day the label changes on, and says so once.
        let next = Series::new(msft(), bars[..=cut].to_vec(), "sample", series.fetched_at);
        store.upsert_series(&next).await.unwrap();
        hook.fetched(&[msft()]).await;
        let change = published(&mut changes).await.expect("the change");
        assert_eq!(
            (change.previous, change.label, change.day, change.score),
            (Some(before.label), after.label, after.day, after.score),
            "{backend}"
        );
        assert_eq!(published(&mut changes).await, None, "{backend}: once");

        // The rest of the history, then a run that brings nothing new: nothing more than the
        // labels those days change to, and then nothing at all.
        store.upsert_series(&series).await.unwrap();
        hook.fetched(&[msft()]).await;
        let stored = stored_signals(store.as_ref()).await;
        assert_eq!(stored.len(), all.len(), "{backend}");
        for (stored, scratch) in stored.iter().zip(&all) {
            assert_eq!(
                (stored.day, stored.score, stored.label),
                (scratch.day, scratch.score, scratch.label),
                "{backend}: computed in two runs or one, the same"
            );
            assert_eq!(stored.components, scratch.components, "{backend}");
        }
        let latest = all.last().unwrap();
        let expected = (latest.label != after.label).then_some(latest.label);
        assert_eq!(
            published(&mut changes).await.map(|change| change.label),
            expected,
            "{backend}"
        );
        hook.fetched(&[msft()]).await;
        assert_eq!(published(&mut changes).await, None, "{backend}");
    }
}

/// A read that finds a newer served bar than the stored signals catches up through the same
/// refresh, and so announces a label change on the service's bus as ingestion would.
#[tokio::test]
async fn a_label_change_found_by_a_read_catching_up_goes_on_the_bus() {
    let series = sample_msft().await;
    let bars = series.bars();
    // The last label change of the history: every later day keeps its label.
    let (all, changed) = every_signal_and_the_last_label_change(&series).await;
    let (before, latest) = (&all[changed - 1], all.last().unwrap());
    let cut = bars
        .iter()
        .position(|bar| bar.date == all[changed].day)
        .unwrap();

    for (_keep, store) in common::backends().await {
        let backend = store.backend();
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(BusConfig::default()).unwrap());
        let mut changes = bus.subscribe(StreamKind::Signals, "test").await.unwrap();
        // History up to the day before the change, ingested long ago (so a read asks the
        // provider again), and its signals.
        let long_ago = "2020-01-02T22:00:00Z".parse().unwrap();
        let partial = Series::new(msft(), bars[..cut].to_vec(), "sample", long_ago);
        store.upsert_series(&partial).await.unwrap();
        let sample: Arc<dyn MarketData> = Arc::new(providers::sample::Sample::new());
        let market = Arc::new(Market::new(sample, store.clone(), MarketConfig::default()));
        let service = service::Service::new(store.clone(), market, service::Settings::default());
        service.announce_on(bus.clone());
        service.refresh_signals(&[msft()]).await.unwrap();
        let first = published(&mut changes).await.expect("the first label");
        assert_eq!(
            (first.label, first.day),
            (before.label, before.day),
            "{backend}"
        );

        // A user reads the signal: the read path serves the whole history, the stored signals
        // catch up to its last day, and the new label is announced once.
        let read = service
            .latest_signal(msft(), &market::Unmetered)
            .await
            .unwrap();
        assert_eq!(read.value.day, latest.day, "{backend}");
        let change = published(&mut changes)
            .await
            .expect("the change a read found");
        assert_eq!(
            (change.previous, change.label, change.day),
            (Some(before.label), latest.label, latest.day),
            "{backend}"
        );
        service
            .latest_signal(msft(), &market::Unmetered)
            .await
            .unwrap();
        assert_eq!(published(&mut changes).await, None, "{backend}: once");
    }
}
