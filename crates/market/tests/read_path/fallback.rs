//! The provider chain: providers asked in order, one at a time, each behind its own breaker,
//! with the most useful failure reported when none can answer.

use std::sync::Arc;
use std::time::Duration;

use market::{BreakerState, Capability, Market, MarketError, ProviderCapability};
use providers::{MarketData, ProviderError};
use store::MemoryStore;

use super::scripted::{Scripted, close_of, config, sym, unknown, upstream_error};

fn chain(daily: &[&Arc<Scripted>], quote: &[&Arc<Scripted>]) -> Market {
    let list = |providers: &[&Arc<Scripted>]| -> Vec<Arc<dyn MarketData>> {
        providers
            .iter()
            .map(|&p| p.clone() as Arc<dyn MarketData>)
            .collect()
    };
    Market::with_providers(
        list(daily),
        list(quote),
        Arc::new(MemoryStore::new()),
        config(),
    )
}

fn rate_limited() -> ProviderError {
    ProviderError::RateLimited {
        provider: "first",
        detail: "25 requests per day".into(),
        retry_after: Some(Duration::from_secs(60)),
        limit: providers::RateLimit::PerDay,
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_provider_falls_back_to_the_next_whose_name_is_the_source() {
    let first = Scripted::named("first", Err(rate_limited()));
    let second = Scripted::named("second", Ok("20".into()));
    let market = chain(&[&first, &second], &[&first, &second]);

    let served = market.daily(sym("MSFT")).await.unwrap();
    assert_eq!(close_of(&served), "20");
    assert_eq!(served.value.source, "second");
    let quote = market.quote(sym("MSFT")).await.unwrap();
    assert_eq!(quote.value.source, "second");
    // The rate limit spent the first provider's minute: the quote skipped it without a call.
    assert_eq!((first.calls(), second.calls()), (1, 2));
    assert!(
        market
            .breakers()
            .iter()
            .all(|b| b.state == BreakerState::Closed)
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_provider_opens_only_its_own_breaker_and_is_then_skipped_without_a_call() {
    let first = Scripted::named("first", Err(upstream_error()));
    let second = Scripted::named("second", Ok("20".into()));
    let market = chain(&[&first, &second], &[&first, &second]);

    for symbol in ["AAPL", "IBM", "MSFT"] {
        assert_eq!(close_of(&market.daily(sym(symbol)).await.unwrap()), "20");
    }
    let states: Vec<_> = market.breakers().iter().map(|b| b.state).collect();
    assert_eq!(states, [BreakerState::Open, BreakerState::Closed]);

    // The breaker is shared by both capabilities: the quote skips the first provider too.
    assert_eq!(
        market.quote(sym("GOOG")).await.unwrap().value.source,
        "second"
    );
    assert_eq!(
        market.daily(sym("GOOG")).await.unwrap().value.source,
        "second"
    );
    assert_eq!(
        first.calls(),
        3,
        "an open breaker is skipped without a call"
    );
    assert_eq!(second.calls(), 5);

    let status = &market.providers()[0];
    assert_eq!(status.name, "first");
    assert_eq!(status.breaker, BreakerState::Open);
    assert_eq!(status.calls, 3);
    assert_eq!(
        status.last_error.as_deref(),
        Some("scripted failed: HTTP 500")
    );
    assert!(status.last_error_at.is_some());
}

#[tokio::test(start_paused = true)]
async fn an_unknown_symbol_is_the_answer_only_when_every_provider_says_so() {
    let first = Scripted::named("first", Err(unknown(sym("NOPE"))));
    let second = Scripted::named("second", Err(unknown(sym("NOPE"))));
    let market = chain(&[&first, &second], &[&first]);
    assert!(matches!(
        market.daily(sym("NOPE")).await,
        Err(MarketError::Provider(ProviderError::UnknownSymbol { .. }))
    ));

    // (Another symbol: the answers about NOPE are remembered.)
    second.set_default(Err(upstream_error()));
    assert!(matches!(
        market.daily(sym("NADA")).await,
        Err(MarketError::Provider(ProviderError::Upstream { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn when_every_provider_fails_a_rate_limit_or_open_breaker_wins_over_an_upstream_failure() {
    let first = Scripted::named("first", Err(rate_limited()));
    let second = Scripted::named("second", Err(upstream_error()));
    let market = chain(&[&first, &second], &[&second]);
    assert!(matches!(
        market.daily(sym("MSFT")).await,
        Err(MarketError::ProviderPaused {
            provider: "first",
            ..
        })
    ));

    // Open the second provider's breaker through the quote chain, where it is alone.
    for symbol in ["AAPL", "IBM"] {
        assert!(market.quote(sym(symbol)).await.is_err());
    }
    assert!(matches!(
        market.quote(sym("GOOG")).await,
        Err(MarketError::BreakerOpen {
            provider: "second",
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn providers_are_asked_in_order_one_at_a_time() {
    let first = Scripted::named("first", Err(upstream_error()));
    let second = Scripted::named("second", Ok("20".into()));
    *first.delay.lock().unwrap() = Duration::from_millis(500);
    *second.delay.lock().unwrap() = Duration::from_millis(500);
    let market = chain(&[&second, &first], &[&first, &second]);

    let started = tokio::time::Instant::now();
    assert_eq!(
        market.quote(sym("MSFT")).await.unwrap().value.source,
        "second"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "the second call started after the first ended, took {:?}",
        started.elapsed()
    );
    assert_eq!((first.calls(), second.calls()), (1, 1));

    // Daily lists the second provider first, so the first is never asked.
    assert_eq!(
        market.daily(sym("MSFT")).await.unwrap().value.source,
        "second"
    );
    assert_eq!((first.calls(), second.calls()), (1, 2));

    let positions: Vec<_> = market
        .providers()
        .into_iter()
        .map(|p| (p.name, p.capabilities))
        .collect();
    let at = |capability, position| ProviderCapability {
        capability,
        position,
    };
    assert_eq!(
        positions,
        [
            (
                "second",
                vec![at(Capability::Daily, 1), at(Capability::Quote, 2)]
            ),
            (
                "first",
                vec![at(Capability::Daily, 2), at(Capability::Quote, 1)]
            ),
        ]
    );
}
