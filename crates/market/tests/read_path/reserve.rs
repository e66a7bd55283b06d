//! What requests may spend: the part of each quota reserved for ingestion, and the caller's
//! own budget of reads that reach a provider.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use market::{CacheStatus, MarketError, QuotaLimits, QuotaWindow, UpstreamBudget};
use store::MemoryStore;

use super::quota::{chain, nth};
use super::scripted::{Scripted, close_of, config, sym, unknown};

/// A budget of `left` reads, counting what was asked of it.
#[derive(Default)]
struct Allowance {
    left: AtomicUsize,
    asked: AtomicUsize,
}

impl Allowance {
    fn of(left: usize) -> Self {
        Self {
            left: AtomicUsize::new(left),
            asked: AtomicUsize::new(0),
        }
    }
}

impl UpstreamBudget for Allowance {
    fn take(&self) -> Result<(), Duration> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .map(|_| ())
            .map_err(|_| Duration::from_secs(12))
    }
}

/// Alpha Vantage's free plan with one call a minute and ten a day kept for ingestion.
fn free_plan_with_reserve() -> market::MarketConfig {
    let mut config = config();
    config.quotas.insert(
        "only".into(),
        QuotaLimits {
            per_minute: 5,
            per_day: 25,
            reserved_per_minute: 1,
            reserved_per_day: 10,
        },
    );
    config
}

#[tokio::test(start_paused = true)]
async fn reads_of_made_up_symbols_cannot_spend_the_reserve_and_ingestion_still_can() {
    let only = Scripted::named("only", Err(unknown(sym("AAA1"))));
    let market = chain(
        &[&only],
        Arc::new(MemoryStore::new()),
        free_plan_with_reserve(),
    );
    for n in 1..=4 {
        assert!(market.daily(sym(&format!("AAA{n}"))).await.is_err());
    }
    match market.daily(sym("AAA5")).await {
        Err(MarketError::QuotaExhausted {
            window, reserved, ..
        }) => assert_eq!((window, reserved), (QuotaWindow::Minute, 1)),
        other => panic!("expected the requests' share to be spent, got {other:?}"),
    }
    assert_eq!(only.calls(), 4, "the fifth call of the minute was not made");

    only.set_default(Ok("410.5".into()));
    let refreshed = market.refresh_daily(sym("MSFT"), None, None).await.unwrap();
    assert_eq!(refreshed.provider, "only");
    assert_eq!(only.calls(), 5, "ingestion spent the reserved call");
    let minute = market.providers()[0].quota.minute;
    assert_eq!((minute.used, minute.remaining), (5, Some(0)));
}

#[tokio::test(start_paused = true)]
async fn the_day_reserve_outlasts_a_day_of_requests() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(
        &[&only],
        Arc::new(MemoryStore::new()),
        free_plan_with_reserve(),
    );
    let mut n = 0;
    // Four requests a minute (the fifth is reserved) until the day's share for requests is gone.
    for _ in 0..4 {
        for _ in 0..4 {
            if market.daily(nth(n)).await.is_ok() {
                n += 1;
            }
        }
        tokio::time::advance(Duration::from_secs(60)).await;
    }
    assert_eq!(n, 15, "25 a day less the 10 reserved");
    match market.daily(nth(99)).await {
        Err(MarketError::QuotaExhausted {
            window, reserved, ..
        }) => assert_eq!((window, reserved), (QuotaWindow::Day, 10)),
        other => panic!("expected the day's share for requests to be spent, got {other:?}"),
    }
    for k in 0..5 {
        market
            .refresh_daily(nth(100 + k), None, None)
            .await
            .unwrap();
    }
    let day = market.providers()[0].quota.day;
    assert_eq!(
        (day.used, day.reserved, day.remaining_for_requests),
        (20, 10, Some(0))
    );
}

#[tokio::test(start_paused = true)]
async fn a_budget_is_charged_only_for_reads_that_ask_a_provider() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(&[&only], Arc::new(MemoryStore::new()), config());
    let budget = Allowance::of(1);
    assert_eq!(
        market.daily_with(sym("MSFT"), &budget).await.unwrap().cache,
        CacheStatus::Miss
    );
    for _ in 0..10 {
        let served = market.daily_with(sym("MSFT"), &budget).await.unwrap();
        assert_eq!(served.cache, CacheStatus::Hit);
    }
    assert_eq!(budget.asked.load(Ordering::SeqCst), 1, "hits cost nothing");

    match market.daily_with(sym("IBM"), &budget).await {
        Err(MarketError::ReadBudgetSpent { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(12));
        }
        other => panic!("expected the budget to refuse, got {other:?}"),
    }
    assert!(market.quote_with(sym("IBM"), &budget).await.is_err());
    assert_eq!(only.calls(), 1, "a refused read asks no provider");
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_still_gets_the_stale_copy() {
    let only = Scripted::named("only", Ok("10".into()));
    let market = chain(&[&only], Arc::new(MemoryStore::new()), config());
    market.daily(sym("MSFT")).await.unwrap();
    tokio::time::advance(Duration::from_secs(301)).await;
    let served = market
        .daily_with(sym("MSFT"), &Allowance::of(0))
        .await
        .unwrap();
    assert_eq!(served.cache, CacheStatus::Stale);
    assert_eq!(close_of(&served), "10");
    assert_eq!(only.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_symbol_every_provider_remembers_as_unknown_costs_no_budget() {
    let only = Scripted::named("only", Err(unknown(sym("NOPE"))));
    let market = chain(&[&only], Arc::new(MemoryStore::new()), config());
    let budget = Allowance::of(1);
    for _ in 0..3 {
        assert!(matches!(
            market.daily_with(sym("NOPE"), &budget).await,
            Err(MarketError::Provider(_))
        ));
    }
    assert_eq!(budget.asked.load(Ordering::SeqCst), 1);
    assert_eq!(only.calls(), 1);
}
