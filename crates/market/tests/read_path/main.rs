//! The read path against a scripted provider and an in-memory store, on tokio's paused clock:
//! caching by symbol, single-flight, the circuit breaker, retries and stale-on-error; the
//! provider chain's fallback is in [`fallback`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fallback;
mod news;
mod pause;
mod quota;
mod reserve;
mod scripted;
mod stored;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use market::{BreakerState, CacheStatus, MarketConfig, MarketError};
use providers::ProviderError;
use store::{MemoryStore, Store};

use scripted::{
    Scripted, close_of, config, market, series_fetched_at, start, sym, unknown, upstream_error,
};

#[tokio::test(start_paused = true)]
async fn a_fresh_series_is_served_from_cache_until_the_ttl_passes() {
    let provider = Scripted::answering("10");
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().cache,
        CacheStatus::Miss
    );
    assert_eq!(
        market.daily(sym("msft")).await.unwrap().cache,
        CacheStatus::Hit
    );
    assert_eq!(provider.calls(), 1);

    tokio::time::advance(Duration::from_secs(299)).await;
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().cache,
        CacheStatus::Hit
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().cache,
        CacheStatus::Miss
    );
    assert_eq!(provider.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_misses_for_one_symbol_make_exactly_one_upstream_call() {
    let provider = Scripted::answering("10");
    *provider.delay.lock().unwrap() = Duration::from_millis(500);
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let market = market.clone();
            tokio::spawn(async move { market.daily(sym("MSFT")).await })
        })
        .collect();
    for request in requests {
        assert_eq!(close_of(&request.await.unwrap().unwrap()), "10");
    }
    assert_eq!(provider.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn misses_on_different_symbols_load_in_parallel() {
    let provider = Scripted::answering("10");
    *provider.delay.lock().unwrap() = Duration::from_millis(500);
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    let started = tokio::time::Instant::now();
    let requests: Vec<_> = ["AAPL", "MSFT", "IBM", "GOOG"]
        .into_iter()
        .map(|symbol| {
            let market = market.clone();
            tokio::spawn(async move { market.daily(sym(symbol)).await })
        })
        .collect();
    for request in requests {
        request.await.unwrap().unwrap();
    }
    assert_eq!(provider.calls(), 4);
    assert_eq!(
        provider.max_in_flight.load(Ordering::SeqCst),
        4,
        "all four calls were in flight at once"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_stale_copy_is_served_when_the_upstream_fails() {
    let provider = Scripted::answering("10");
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    market.daily(sym("MSFT")).await.unwrap();
    provider.set_default(Err(upstream_error()));
    tokio::time::advance(Duration::from_secs(301)).await;

    let served = market.daily(sym("MSFT")).await.unwrap();
    assert_eq!(served.cache, CacheStatus::Stale);
    assert_eq!(close_of(&served), "10");
    // Within the stale-retry window the stale copy is served without asking again.
    let calls = provider.calls();
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().cache,
        CacheStatus::Stale
    );
    assert_eq!(provider.calls(), calls);
    // Once the upstream recovers, fresh data replaces the stale copy.
    provider.set_default(Ok("11".into()));
    tokio::time::advance(Duration::from_secs(11)).await;
    let served = market.daily(sym("MSFT")).await.unwrap();
    assert_eq!(
        (served.cache, close_of(&served)),
        (CacheStatus::Miss, "11".into())
    );
}

#[tokio::test(start_paused = true)]
async fn a_refresh_abandoned_midway_keeps_the_stale_copy_for_the_next_reader() {
    // Quotes are not stored, so the cache's copy is the only stale copy there is.
    let provider = Scripted::answering("10");
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    market.quote(sym("MSFT")).await.unwrap();
    tokio::time::advance(Duration::from_secs(61)).await;

    // A client gives up while the refresh is waiting for a slow upstream…
    *provider.delay.lock().unwrap() = Duration::from_secs(3);
    let abandoned = tokio::time::timeout(Duration::from_secs(1), market.quote(sym("MSFT"))).await;
    assert!(abandoned.is_err(), "the read was still waiting");

    // …and the upstream then fails: the next reader still gets the old quote, marked stale.
    *provider.delay.lock().unwrap() = Duration::ZERO;
    provider.set_default(Err(upstream_error()));
    let served = market.quote(sym("MSFT")).await.unwrap();
    assert_eq!(served.cache, CacheStatus::Stale);
    assert_eq!(served.value.price.to_string(), "10");
}

#[tokio::test(start_paused = true)]
async fn the_store_stands_in_as_the_stale_copy_after_a_restart() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let old = series_fetched_at(sym("IBM"), "42", start() - chrono::Duration::days(2));
    store.upsert_series(&old).await.unwrap();
    let provider = Arc::new(Scripted::default());
    provider.set_default(Err(upstream_error()));
    let market = market(provider, store, config());
    let served = market.daily(sym("IBM")).await.unwrap();
    assert_eq!(
        (served.cache, close_of(&served)),
        (CacheStatus::Stale, "42".into())
    );
}

#[tokio::test(start_paused = true)]
async fn fresh_rows_in_the_store_are_used_without_calling_the_provider() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    store
        .upsert_series(&series_fetched_at(sym("IBM"), "42", start()))
        .await
        .unwrap();
    let provider = Scripted::answering("99");
    let market = market(provider.clone(), store, config());
    let served = market.daily(sym("IBM")).await.unwrap();
    assert_eq!(
        (served.cache, close_of(&served)),
        (CacheStatus::Miss, "42".into())
    );
    assert_eq!(provider.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn stored_rows_age_by_the_injected_clock_not_the_machines() {
    // Fetched 200 s before the test clock's start (days before the machine's own time): fresh
    // for a 300 s cache_ttl by the injected clock, stale by the system's.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let fetched_at = start() - chrono::Duration::seconds(200);
    store
        .upsert_series(&series_fetched_at(sym("IBM"), "42", fetched_at))
        .await
        .unwrap();
    let config = config();
    let provider = Scripted::answering("99");
    let first = market(provider.clone(), store.clone(), config.clone());
    let served = first.daily(sym("IBM")).await.unwrap();
    assert_eq!(
        (served.cache, close_of(&served)),
        (CacheStatus::Miss, "42".into())
    );
    assert_eq!(provider.calls(), 0, "fresh by the injected clock");

    // 101 s later on the paused clock the rows are 301 s old: a restarted process asks the
    // provider.
    tokio::time::advance(Duration::from_secs(101)).await;
    let restarted = market(provider.clone(), store, config);
    let served = restarted.daily(sym("IBM")).await.unwrap();
    assert_eq!(close_of(&served), "99");
    assert_eq!(provider.calls(), 1, "stale by the injected clock");
}

#[tokio::test(start_paused = true)]
async fn fetched_bars_are_written_to_the_store() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let market = market(Scripted::answering("12.5"), store.clone(), config());
    market.daily(sym("AAPL")).await.unwrap();
    let stored = store.load_series(sym("AAPL")).await.unwrap().unwrap();
    assert_eq!(stored.latest().unwrap().close.to_string(), "12.5");
    assert_eq!(stored.source, "scripted");
}

#[tokio::test(start_paused = true)]
async fn failures_with_nothing_stored_are_errors_and_are_not_cached() {
    let provider = Arc::new(Scripted::default());
    provider.push(Err(upstream_error()));
    provider.set_default(Ok("10".into()));
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    assert!(matches!(
        market.daily(sym("MSFT")).await,
        Err(MarketError::Provider(ProviderError::Upstream { .. }))
    ));
    let served = market.daily(sym("MSFT")).await.unwrap();
    assert_eq!(
        (served.cache, close_of(&served)),
        (CacheStatus::Miss, "10".into())
    );
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_after_the_threshold_and_half_opens_after_the_timeout() {
    let provider = Arc::new(Scripted::default());
    provider.set_default(Err(upstream_error()));
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    for _ in 0..3 {
        assert!(matches!(
            market.daily(sym("MSFT")).await,
            Err(MarketError::Provider(_))
        ));
    }
    assert_eq!(market.breakers()[0].state, BreakerState::Open);
    match market.daily(sym("MSFT")).await {
        Err(MarketError::BreakerOpen { retry_after, .. }) => {
            assert_eq!(retry_after, Duration::from_secs(30))
        }
        other => panic!("expected an open breaker, got {other:?}"),
    }
    assert_eq!(
        provider.calls(),
        3,
        "an open breaker does not call the provider"
    );

    provider.set_default(Ok("10".into()));
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(market.breakers()[0].state, BreakerState::HalfOpen);
    assert_eq!(close_of(&market.daily(sym("MSFT")).await.unwrap()), "10");
    assert_eq!(market.breakers()[0].state, BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn unknown_symbols_never_open_the_breaker() {
    let provider = Arc::new(Scripted::default());
    provider.set_default(Err(unknown(sym("NOPE"))));
    // Not remembering unknown symbols (see `quota` for that), so every read asks.
    let config = MarketConfig {
        unknown_symbol_ttl: Duration::ZERO,
        ..config()
    };
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config);
    for _ in 0..10 {
        assert!(matches!(
            market.daily(sym("NOPE")).await,
            Err(MarketError::Provider(ProviderError::UnknownSymbol { .. }))
        ));
    }
    assert_eq!(market.breakers()[0].state, BreakerState::Closed);
    assert_eq!(
        provider.calls(),
        10,
        "unknown-symbol answers are not cached"
    );
}

#[tokio::test(start_paused = true)]
async fn retryable_failures_are_retried_with_backoff_and_definite_answers_are_not() {
    let mut config = config();
    config.retry.max_retries = 2;
    let provider = Arc::new(Scripted::default());
    provider.push(Err(upstream_error()));
    provider.push(Err(ProviderError::Timeout {
        provider: "scripted",
    }));
    provider.set_default(Ok("10".into()));
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config);
    assert_eq!(close_of(&market.daily(sym("MSFT")).await.unwrap()), "10");
    assert_eq!(provider.calls(), 3);

    provider.push(Err(unknown(sym("NOPE"))));
    assert!(market.daily(sym("NOPE")).await.is_err());
    assert_eq!(provider.calls(), 4, "an unknown symbol is not retried");
}

#[tokio::test(start_paused = true)]
async fn a_slow_provider_times_out_and_counts_as_a_failure() {
    let provider = Scripted::answering("10");
    *provider.delay.lock().unwrap() = Duration::from_secs(60);
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    assert!(matches!(
        market.daily(sym("MSFT")).await,
        Err(MarketError::Provider(ProviderError::Timeout { .. }))
    ));
    assert_eq!(market.breakers()[0].consecutive_failures, 1);
}

#[tokio::test(start_paused = true)]
async fn rate_limits_serve_stale_and_do_not_open_the_breaker() {
    let provider = Scripted::answering("10");
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config());
    market.quote(sym("MSFT")).await.unwrap();
    provider.set_default(Err(ProviderError::RateLimited {
        provider: "scripted",
        detail: "25 requests per day".into(),
        retry_after: None,
        limit: providers::RateLimit::PerDay,
    }));
    for _ in 0..5 {
        tokio::time::advance(Duration::from_secs(61)).await;
        let served = market.quote(sym("MSFT")).await.unwrap();
        assert_eq!(served.cache, CacheStatus::Stale);
        assert_eq!(served.value.price.to_string(), "10");
    }
    assert_eq!(market.breakers()[0].state, BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_unsupported_request_is_a_definite_answer_not_retried_not_stale_and_not_a_failure() {
    let mut config = config();
    config.retry.max_retries = 2;
    let provider = Scripted::answering("10");
    let market = market(provider.clone(), Arc::new(MemoryStore::new()), config);
    market.daily(sym("MSFT")).await.unwrap();
    provider.set_default(Err(ProviderError::NotSupported {
        provider: "scripted",
        capability: "daily history",
    }));
    tokio::time::advance(Duration::from_secs(301)).await;

    for _ in 0..5 {
        // Even with an older copy at hand: serving it stale would hide a configuration error.
        assert!(matches!(
            market.daily(sym("MSFT")).await,
            Err(MarketError::Provider(ProviderError::NotSupported { .. }))
        ));
    }
    assert_eq!(provider.calls(), 6, "one call per request, no retries");
    assert_eq!(market.breakers()[0].state, BreakerState::Closed);
    assert_eq!(market.breakers()[0].consecutive_failures, 0);
}
