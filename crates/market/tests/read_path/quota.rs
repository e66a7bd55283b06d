//! Provider quotas and remembered unknown symbols, on tokio's paused clock with the quota
//! windows' UTC time moving with it (from `scripted::start()`, 10:00 UTC).

use std::sync::Arc;
use std::time::Duration;

use market::{
    CacheStatus, Market, MarketConfig, MarketError, MarketStore, QuotaLimits, QuotaWindow,
};
use providers::{MarketData, ProviderError};
use store::{Bars, MemoryStore, ProviderUsage, Store};

use super::scripted::{Scripted, close_of, config, start, sym, unknown, upstream_error};

pub(crate) fn limited(provider: &'static str, per_minute: u64, per_day: u64) -> MarketConfig {
    let mut config = config();
    config.quotas.insert(
        provider.into(),
        QuotaLimits {
            per_minute,
            per_day,
            ..QuotaLimits::UNLIMITED
        },
    );
    config
}

pub(crate) fn chain(
    providers: &[&Arc<Scripted>],
    store: Arc<dyn Store>,
    config: MarketConfig,
) -> Market {
    let list: Vec<Arc<dyn MarketData>> = providers
        .iter()
        .map(|&p| p.clone() as Arc<dyn MarketData>)
        .collect();
    Market::with_providers(list.clone(), list, store, config)
}

/// The UTC midnight after the tests' start.
fn midnight() -> chrono::DateTime<chrono::Utc> {
    "2026-11-29T00:00:00Z".parse().unwrap()
}

/// A symbol per call: each is a cache miss, so each asks the upstream.
pub(crate) fn nth(n: usize) -> domain::Symbol {
    sym(&format!("S{n}"))
}

#[tokio::test(start_paused = true)]
async fn a_provider_allowed_25_calls_a_day_is_called_25_times_then_skipped_for_the_next() {
    let first = Scripted::named("first", Ok("10".into()));
    let second = Scripted::named("second", Ok("20".into()));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let market = chain(&[&first, &second], store.clone(), limited("first", 0, 25));

    for n in 0..25 {
        assert_eq!(market.daily(nth(n)).await.unwrap().value.source, "first");
    }
    let served = market.daily(nth(25)).await.unwrap();
    assert_eq!(served.value.source, "second");
    assert_eq!((first.calls(), second.calls()), (25, 1));

    let status = &market.providers()[0];
    assert_eq!(status.quota.day.limit, Some(25));
    assert_eq!(
        (status.quota.day.used, status.quota.day.remaining),
        (25, Some(0))
    );
    assert_eq!(status.quota.day.resets_at, midnight());
    assert_eq!(
        status.quota.minute.limit, None,
        "no minute limit configured"
    );
    let stored = store.provider_usage("first", start()).await.unwrap();
    assert_eq!(stored.day_calls, 25, "every call was recorded in the store");
}

#[tokio::test(start_paused = true)]
async fn a_spent_quota_with_no_other_provider_is_retry_later_until_midnight_utc() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(
        &[&only],
        Arc::new(MemoryStore::new()),
        limited("only", 0, 2),
    );
    market.daily(nth(0)).await.unwrap();
    market.daily(nth(1)).await.unwrap();
    tokio::time::advance(Duration::from_millis(500)).await;
    match market.daily(nth(2)).await {
        Err(MarketError::QuotaExhausted {
            provider,
            window,
            limit,
            resets_at,
            retry_after,
            reserved,
        }) => {
            assert_eq!((provider, window, limit), ("only", QuotaWindow::Day, 2));
            assert_eq!(reserved, 0, "nothing reserved: the whole day is spent");
            assert_eq!(resets_at, midnight());
            // 14 hours less half a second, rounded up to whole seconds.
            assert_eq!(retry_after, Duration::from_secs(14 * 3600));
        }
        other => panic!("expected a spent quota, got {other:?}"),
    }
    assert_eq!(only.calls(), 2, "a spent quota is skipped without a call");
}

#[tokio::test(start_paused = true)]
async fn the_minute_window_resets_after_a_minute() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(
        &[&only],
        Arc::new(MemoryStore::new()),
        limited("only", 2, 0),
    );
    market.daily(nth(0)).await.unwrap();
    tokio::time::advance(Duration::from_secs(20)).await;
    market.daily(nth(1)).await.unwrap();
    assert!(matches!(
        market.daily(nth(2)).await,
        Err(MarketError::QuotaExhausted {
            window: QuotaWindow::Minute,
            retry_after,
            ..
        }) if retry_after == Duration::from_secs(40)
    ));
    tokio::time::advance(Duration::from_secs(39)).await;
    assert!(market.daily(nth(2)).await.is_err(), "still the same minute");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(close_of(&market.daily(nth(2)).await.unwrap()), "10");
    assert_eq!(only.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn every_attempt_counts_retries_included() {
    let only = Scripted::named("only", Err(upstream_error()));
    let mut config = limited("only", 10, 0);
    config.retry.max_retries = 2;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let market = chain(&[&only], store.clone(), config);
    assert!(market.daily(nth(0)).await.is_err());
    assert_eq!(only.calls(), 3);
    assert_eq!(market.providers()[0].quota.minute.used, 3);
    let stored = store.provider_usage("only", start()).await.unwrap();
    assert_eq!(stored.minute_calls, 3);
}

#[tokio::test(start_paused = true)]
async fn usage_survives_a_restart_over_the_same_store() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let before = Scripted::named("only", Ok("10".into()));
    let market = chain(&[&before], store.clone(), limited("only", 0, 3));
    for n in 0..3 {
        market.daily(nth(n)).await.unwrap();
    }
    drop(market);

    let after = Scripted::named("only", Ok("10".into()));
    let restarted = chain(&[&after], store.clone(), limited("only", 0, 3));
    restarted.restore_usage().await;
    assert_eq!(restarted.providers()[0].quota.day.used, 3);
    assert!(matches!(
        restarted.daily(nth(3)).await,
        Err(MarketError::QuotaExhausted {
            window: QuotaWindow::Day,
            ..
        })
    ));
    assert_eq!(after.calls(), 0, "the restarted process spent nothing more");
}

#[tokio::test(start_paused = true)]
async fn replicas_sharing_a_store_see_each_others_calls_when_they_call() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let one = Scripted::named("only", Ok("10".into()));
    let two = Scripted::named("only", Ok("10".into()));
    let replica_one = chain(&[&one], store.clone(), limited("only", 0, 3));
    let replica_two = chain(&[&two], store.clone(), limited("only", 0, 3));
    replica_one.daily(nth(0)).await.unwrap();
    replica_one.daily(nth(1)).await.unwrap();
    // The second replica's first call learns the day's count from the store…
    replica_two.daily(nth(2)).await.unwrap();
    assert_eq!(replica_two.providers()[0].quota.day.used, 3);
    // …so its next call is refused although it made only one.
    assert!(replica_two.daily(nth(3)).await.is_err());
    assert_eq!((one.calls(), two.calls()), (2, 1));
    // The first replica still counts 2, but the store says the day is spent: no call.
    assert!(matches!(
        replica_one.daily(nth(4)).await,
        Err(MarketError::QuotaExhausted {
            window: QuotaWindow::Day,
            ..
        })
    ));
    assert_eq!(one.calls(), 2, "another replica took the last call");
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_answer_spends_the_providers_minute() {
    let first = Scripted::named("first", Ok("10".into()));
    first.push(Err(ProviderError::RateLimited {
        provider: "first",
        detail: "5 calls per minute".into(),
        retry_after: None,
        limit: providers::RateLimit::PerMinute,
    }));
    let second = Scripted::named("second", Ok("20".into()));
    // No quota configured for `first`: its own answer is what spends the minute.
    let market = chain(&[&first, &second], Arc::new(MemoryStore::new()), config());
    assert_eq!(market.daily(nth(0)).await.unwrap().value.source, "second");
    assert_eq!(market.daily(nth(1)).await.unwrap().value.source, "second");
    assert_eq!(first.calls(), 1, "skipped for the rest of the minute");
    assert_eq!(market.providers()[0].quota.minute.remaining, Some(0));

    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(market.daily(nth(2)).await.unwrap().value.source, "first");
    assert_eq!(first.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_spent_quota_serves_the_stale_copy() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(
        &[&only],
        Arc::new(MemoryStore::new()),
        limited("only", 0, 1),
    );
    market.daily(sym("MSFT")).await.unwrap();
    tokio::time::advance(Duration::from_secs(301)).await;
    let served = market.daily(sym("MSFT")).await.unwrap();
    assert_eq!(served.cache, CacheStatus::Stale);
    assert_eq!(close_of(&served), "10");
    assert_eq!(only.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_symbol_is_asked_once_per_provider_per_ttl() {
    let first = Scripted::named("first", Err(unknown(sym("NOPE"))));
    let second = Scripted::named("second", Err(unknown(sym("NOPE"))));
    let market = chain(&[&first, &second], Arc::new(MemoryStore::new()), config());
    for _ in 0..5 {
        assert!(matches!(
            market.daily(sym("NOPE")).await,
            Err(MarketError::Provider(ProviderError::UnknownSymbol { .. }))
        ));
        assert!(market.quote(sym("NOPE")).await.is_err());
    }
    assert_eq!(
        (first.calls(), second.calls()),
        (1, 1),
        "one call per provider, whatever the capability"
    );
    // Other symbols are still asked.
    first.set_default(Ok("10".into()));
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().value.source,
        "first"
    );

    tokio::time::advance(Duration::from_secs(3599)).await;
    assert!(matches!(
        market.daily(sym("NOPE")).await,
        Err(MarketError::Provider(ProviderError::UnknownSymbol { .. }))
    ));
    assert_eq!(
        (first.calls(), second.calls()),
        (2, 1),
        "NOPE still remembered as unknown by both"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        market.daily(sym("NOPE")).await.unwrap().value.source,
        "first"
    );
    assert_eq!(first.calls(), 3, "asked again once the answer expired");
}

#[tokio::test(start_paused = true)]
async fn bars_and_provider_usage_are_separate_parts_the_read_path_may_take_from_two_stores() {
    let only = Scripted::named("only", Ok("10".into()));
    let bars = Arc::new(MemoryStore::new());
    let usage = Arc::new(MemoryStore::new());
    let list: Vec<Arc<dyn MarketData>> = vec![only];
    let market = Market::with_providers(
        list.clone(),
        list,
        MarketStore::new(bars.clone(), usage.clone()),
        limited("only", 0, 25),
    );
    market.daily(sym("MSFT")).await.unwrap();

    let stored = bars.load_series(sym("MSFT")).await.unwrap().unwrap();
    assert_eq!(stored.source, "only", "fetched bars go to the bars part");
    assert!(usage.load_series(sym("MSFT")).await.unwrap().is_none());
    let counted = |store: Arc<MemoryStore>| async move {
        store
            .provider_usage("only", start())
            .await
            .unwrap()
            .day_calls
    };
    assert_eq!(
        counted(usage).await,
        1,
        "the call is counted in the usage part"
    );
    assert_eq!(counted(bars).await, 0);
}
