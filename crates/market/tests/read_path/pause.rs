//! A provider's own limit: after it answers "rate limited" it is paused until the limit it
//! reported resets, in this process, after a restart and in a replica sharing the store, and
//! the error says it was the provider's limit (not a configured quota).

use std::sync::Arc;
use std::time::Duration;

use market::{MarketError, ProviderLimit};
use providers::{ProviderError, RateLimit};
use store::{MemoryStore, Store};

use super::quota::{chain, limited, nth};
use super::scripted::{Scripted, config, start};

/// Alpha Vantage's documented daily-limit answer, as its classifier reports it: a daily limit
/// whose reset Alpha Vantage does not state (the read path assumes the next UTC midnight, 14
/// hours after the tests' 10:00 start).
fn daily_limit() -> ProviderError {
    ProviderError::RateLimited {
        provider: "first",
        detail: "Our standard API rate limit is 25 requests per day.".into(),
        retry_after: None,
        limit: RateLimit::PerDay,
    }
}

#[tokio::test(start_paused = true)]
async fn a_daily_limit_pauses_the_provider_until_midnight_not_for_a_minute() {
    let first = Scripted::named("first", Err(daily_limit()));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let market = chain(&[&first], store.clone(), limited("first", 5, 25));

    let refused = market.daily(nth(0)).await.unwrap_err();
    let MarketError::ProviderPaused {
        limit,
        until,
        retry_after,
        ..
    } = refused
    else {
        panic!("expected the provider's own limit, got {refused:?}");
    };
    assert_eq!(limit, ProviderLimit::PerDay);
    assert_eq!(
        until,
        "2026-11-29T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(retry_after, Duration::from_secs(14 * 3600));

    // Every minute of the rest of the day: other symbols refused for the same cause, no call.
    for n in 1..=3 {
        tokio::time::advance(Duration::from_secs(60 * 60)).await;
        assert!(matches!(
            market.daily(nth(n)).await,
            Err(MarketError::ProviderPaused {
                limit: ProviderLimit::PerDay,
                ..
            })
        ));
    }
    assert_eq!(first.calls(), 1);
    let status = &market.providers()[0];
    let pause = status.paused.as_ref().unwrap();
    assert_eq!((pause.limit, pause.until), (ProviderLimit::PerDay, until));
    assert_eq!(pause.since, start());
    assert_eq!(status.quota.day.remaining, Some(0), "nothing more today");

    // A restarted process, or a replica on the same store, does not call it either.
    let other = Scripted::named("first", Ok("10".into()));
    let replica = chain(&[&other], store.clone(), limited("first", 5, 25));
    assert!(matches!(
        replica.daily(nth(9)).await,
        Err(MarketError::ProviderPaused { .. })
    ));
    assert_eq!(other.calls(), 0);
    let restarted = chain(&[&other], store, limited("first", 5, 25));
    restarted.restore_usage().await;
    assert!(restarted.providers()[0].paused.is_some());

    // At midnight the limit has reset.
    first.set_default(Ok("10".into()));
    tokio::time::advance(Duration::from_secs(11 * 3600)).await;
    assert_eq!(market.daily(nth(4)).await.unwrap().value.source, "first");
    assert_eq!(first.calls(), 2);
    assert!(market.providers()[0].paused.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_paused_provider_is_skipped_for_the_next_one_in_the_chain() {
    let first = Scripted::named("first", Err(daily_limit()));
    let second = Scripted::named("second", Ok("20".into()));
    let market = chain(&[&first, &second], Arc::new(MemoryStore::new()), config());
    for n in 0..5 {
        assert_eq!(market.daily(nth(n)).await.unwrap().value.source, "second");
    }
    assert_eq!((first.calls(), second.calls()), (1, 5));
}
