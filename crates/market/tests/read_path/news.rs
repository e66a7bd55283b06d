//! News sources on the provider chain: off without a source, fallback in order, one quota for
//! a vendor's prices and news, and news positions in the provider report.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Symbol;
use domain::news::NewsItem;
use market::{Capability, Market, MarketError, Purpose};
use providers::news::NewsSource;
use providers::{MarketData, ProviderError};
use store::{MemoryStore, Store};

use super::quota::limited;
use super::scripted::{Scripted, config, sym, upstream_error};

/// A news source answering one article, or failing, and counting its calls.
#[derive(Debug)]
struct ScriptedNews {
    name: &'static str,
    fails: bool,
    calls: AtomicUsize,
}

impl ScriptedNews {
    fn new(name: &'static str, fails: bool) -> Arc<Self> {
        Arc::new(Self {
            name,
            fails,
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl NewsSource for ScriptedNews {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn news(
        &self,
        symbol: Symbol,
        _since: Option<DateTime<Utc>>,
        _limit: u32,
    ) -> Result<Vec<NewsItem>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fails {
            return Err(upstream_error());
        }
        Ok(vec![NewsItem {
            title: format!("{symbol} news"),
            url: format!("https://news.example/{symbol}"),
            publisher: None,
            published_at: "2026-11-28T09:00:00Z".parse().unwrap(),
            summary: String::new(),
            symbols: vec![symbol],
            provider: self.name.to_owned(),
            provider_sentiment: Vec::new(),
            simulated: false,
        }])
    }
}

fn memory() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new())
}

#[tokio::test(start_paused = true)]
async fn news_is_off_without_a_source() {
    let market = Market::new(Scripted::answering("10"), memory(), config());
    assert!(!market.news_enabled());
    let news = market.news(sym("MSFT"), None, 10, Purpose::Request).await;
    assert_eq!(news.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn news_falls_back_in_order_and_the_report_lists_news_positions() {
    let first = ScriptedNews::new("first", true);
    let second = ScriptedNews::new("second", false);
    let sources: Vec<Arc<dyn NewsSource>> = vec![first.clone(), second.clone()];
    let market = Market::with_sources(Vec::new(), Vec::new(), sources, memory(), config());
    assert!(market.news_enabled());

    let fetched = market
        .news(sym("MSFT"), None, 10, Purpose::Request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched.provider, "second");
    assert_eq!(fetched.items[0].title, "MSFT news");
    assert_eq!((first.calls(), second.calls()), (1, 1));

    let report = market.providers();
    let positions: Vec<_> = report
        .iter()
        .map(|status| {
            (
                status.name,
                status.capabilities[0].capability,
                status.capabilities[0].position,
            )
        })
        .collect();
    assert_eq!(
        positions,
        [
            ("first", Capability::News, 1),
            ("second", Capability::News, 2)
        ]
    );
    assert!(report[0].last_error.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_vendors_news_and_prices_spend_one_quota() {
    let prices = Scripted::named("alphavantage", Ok("10".into()));
    let news = ScriptedNews::new("alphavantage", false);
    let list: Vec<Arc<dyn MarketData>> = vec![prices.clone()];
    let market = Market::with_sources(
        list.clone(),
        list,
        vec![news.clone() as Arc<dyn NewsSource>],
        memory(),
        limited("alphavantage", 0, 3),
    );

    market.daily(sym("MSFT")).await.unwrap();
    market.daily(sym("IBM")).await.unwrap();
    market
        .news(sym("MSFT"), None, 10, Purpose::Request)
        .await
        .unwrap();
    let spent = market.news(sym("IBM"), None, 10, Purpose::Request).await;
    assert!(
        matches!(
            spent,
            Err(MarketError::QuotaExhausted {
                provider: "alphavantage",
                ..
            })
        ),
        "{spent:?}"
    );
    assert_eq!(
        news.calls(),
        1,
        "the fourth call of the day is refused before it is made"
    );

    let report = market.providers();
    assert_eq!(report.len(), 1, "one upstream for both sides");
    let capabilities: Vec<_> = report[0]
        .capabilities
        .iter()
        .map(|c| c.capability)
        .collect();
    assert_eq!(
        capabilities,
        [Capability::Daily, Capability::Quote, Capability::News]
    );
}
