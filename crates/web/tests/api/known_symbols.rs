//! A symbol is watched only once it is known: stored history exists or a provider answers for
//! it. Junk is refused (and never becomes a tracked symbol that ingestion would spend quota
//! on), and a symbol no provider could check just now is not taken on trust.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use domain::{Bar, Quote, Series, Symbol};
use providers::{MarketData, ProviderError};
use serde_json::json;

use crate::accounts::App;

/// A provider whose quota is spent upstream: every call answers "rate limited".
#[derive(Debug, Default)]
struct RateLimited {
    calls: AtomicUsize,
}

#[async_trait]
impl MarketData for RateLimited {
    fn name(&self) -> &'static str {
        "limited"
    }

    async fn daily(&self, _symbol: Symbol) -> Result<Series, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ProviderError::RateLimited {
            provider: "limited",
            detail: "25 calls a day".into(),
            retry_after: Some(Duration::from_secs(120)),
            limit: providers::RateLimit::PerDay,
        })
    }

    async fn quote(&self, _symbol: Symbol) -> Result<Quote, ProviderError> {
        Err(ProviderError::NotSupported {
            provider: "limited",
            capability: "quotes",
        })
    }
}

#[tokio::test]
async fn made_up_symbols_are_refused_and_never_tracked() {
    let app = App::new().await;
    let ada = app.user("ada@example.com").await;
    assert_eq!(
        app.send("PUT", "/v1/me/watchlist/IBM", Some(&ada), None)
            .await
            .status,
        201
    );
    for n in 0..2 {
        let uri = format!("/v1/me/watchlist/JUNK{n}");
        let refused = app.send("PUT", &uri, Some(&ada), None).await;
        let detail = refused.problem(422);
        assert!(
            detail.contains(&format!("JUNK{n}")) && detail.contains("unknown"),
            "{detail}"
        );
    }
    // Checking a new symbol asks a provider: the client's allowance of such reads (3 a
    // minute by default) bounds how much quota a stream of junk can spend.
    let limited = app
        .send("PUT", "/v1/me/watchlist/JUNK9", Some(&ada), None)
        .await;
    limited.problem(429);
    assert!(limited.header("retry-after").is_some());
    let tracked: Vec<Symbol> = app
        .store
        .tracked_symbols()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.symbol)
        .collect();
    assert_eq!(tracked, [Symbol::parse("IBM").unwrap()]);
    let listed = app
        .send("GET", "/v1/me/watchlist", Some(&ada), None)
        .await
        .json();
    assert_eq!(listed["symbols"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn a_symbol_no_provider_can_check_is_not_watched_and_says_when_to_retry() {
    let provider = Arc::new(RateLimited::default());
    let app = App::with_provider(
        provider.clone(),
        web::auth::AuthSettings::default(),
        web::features::Features::default(),
    )
    .await;
    let ada = app.user("ada@example.com").await;
    let refused = app
        .send("PUT", "/v1/me/watchlist/TSLA", Some(&ada), None)
        .await;
    let detail = refused.problem(503);
    assert_eq!(
        refused.json()["type"],
        "urn:stockd:problem:symbol-unverified"
    );
    assert!(detail.contains("TSLA was not added"), "{detail}");
    assert_eq!(refused.header("retry-after"), Some("120"));
    assert!(app.store.tracked_symbols().await.unwrap().is_empty());

    // Stored history is enough: no provider is asked.
    let symbol = Symbol::parse("TSLA").unwrap();
    let close = "250".parse().unwrap();
    let bar = Bar::new_checked(
        "2026-11-27".parse().unwrap(),
        close,
        close,
        close,
        close,
        1,
        None,
    )
    .unwrap();
    app.store
        .upsert_series(&Series::new(symbol, vec![bar], "import", Utc::now()))
        .await
        .unwrap();
    let calls = provider.calls.load(Ordering::SeqCst);
    let watched = app
        .send("PUT", "/v1/me/watchlist/TSLA", Some(&ada), None)
        .await;
    assert_eq!(watched.status, 201, "{}", watched.text());
    assert_eq!(watched.json()["symbol"], json!("TSLA"));
    assert_eq!(provider.calls.load(Ordering::SeqCst), calls);
}
