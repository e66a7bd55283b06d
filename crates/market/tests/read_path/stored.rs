//! Stored history no provider knows (bars loaded with `stockd import`): a provider's "unknown
//! symbol" or "no data" never hides it, before or after `cache_ttl`, after a restart, and it is
//! served with its own source, not as a stale copy.

use std::sync::Arc;
use std::time::Duration;

use domain::Series;
use market::{CacheStatus, MarketError};
use providers::ProviderError;
use store::{MemoryStore, Store};

use super::scripted::{
    Scripted, close_of, config, market, series, start, sym, unknown, upstream_error,
};

fn imported(age: chrono::Duration) -> Series {
    let bars = series(sym("ZZIMP"), "42").bars().to_vec();
    Series::new(sym("ZZIMP"), bars, "import", start() - age)
}

#[tokio::test(start_paused = true)]
async fn imported_history_outlives_the_cache_ttl_when_the_provider_does_not_know_it() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .upsert_series(&imported(chrono::Duration::zero()))
        .await
        .unwrap();
    let provider = Scripted::named("only", Err(unknown(sym("ZZIMP"))));
    let market = market(provider.clone(), store.clone(), config());
    assert_eq!(
        market.daily(sym("ZZIMP")).await.unwrap().value.source,
        "import"
    );
    assert_eq!(provider.calls(), 0, "fresh stored rows need no provider");

    tokio::time::advance(Duration::from_secs(301)).await;
    let served = market.daily(sym("ZZIMP")).await.unwrap();
    assert_eq!(
        (
            served.cache,
            served.value.source.as_str(),
            close_of(&served)
        ),
        (CacheStatus::Miss, "import", "42".to_owned())
    );
    assert_eq!(provider.calls(), 1);
    // The answer is kept for a whole cache_ttl: no call per request.
    for _ in 0..3 {
        assert_eq!(
            market.daily(sym("ZZIMP")).await.unwrap().cache,
            CacheStatus::Hit
        );
    }
    assert_eq!(provider.calls(), 1);
    // After the next cache_ttl, the provider's remembered "unknown" costs no call either.
    tokio::time::advance(Duration::from_secs(301)).await;
    assert_eq!(
        market.daily(sym("ZZIMP")).await.unwrap().value.source,
        "import"
    );
    assert_eq!(provider.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn after_a_restart_old_imported_rows_are_served_when_no_provider_has_the_symbol() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .upsert_series(&imported(chrono::Duration::days(3)))
        .await
        .unwrap();
    for answer in [
        unknown(sym("ZZIMP")),
        ProviderError::NoData {
            provider: "only",
            symbol: sym("ZZIMP"),
        },
    ] {
        // Each loop is a new process over the same store.
        let provider = Scripted::named("only", Err(answer));
        let market = market(provider.clone(), store.clone(), config());
        let served = market.daily(sym("ZZIMP")).await.unwrap();
        assert_eq!(
            served.cache,
            CacheStatus::Miss,
            "not stale: nothing newer exists"
        );
        assert_eq!(served.value.source, "import");
        assert_eq!(provider.calls(), 1);
    }
    // A symbol with nothing stored is still unknown.
    let provider = Scripted::named("only", Err(unknown(sym("ZZNONE"))));
    let market = market(provider, store, config());
    assert!(matches!(
        market.daily(sym("ZZNONE")).await,
        Err(MarketError::Provider(ProviderError::UnknownSymbol { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn stored_history_is_stale_only_when_the_provider_is_failing() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .upsert_series(&imported(chrono::Duration::days(3)))
        .await
        .unwrap();
    let provider = Scripted::named("only", Err(upstream_error()));
    let market = market(provider, store, config());
    let served = market.daily(sym("ZZIMP")).await.unwrap();
    assert_eq!(served.cache, CacheStatus::Stale, "it could not be checked");
    assert_eq!(served.value.source, "import");
}
