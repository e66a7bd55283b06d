//! A provider that cannot serve a capability at all (Finnhub's daily candles on current plans)
//! is a 502 that tells the operator what to change, and is not retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use domain::{Quote, Series, Symbol};
use providers::{MarketData, ProviderError};

use crate::helpers::{TestApp, market_config};

/// Answers every call with `NotSupported`, counting the calls.
#[derive(Debug, Default)]
struct QuotesOnly {
    calls: AtomicUsize,
}

#[async_trait]
impl MarketData for QuotesOnly {
    fn name(&self) -> &'static str {
        "quotes-only"
    }

    async fn daily(&self, _symbol: Symbol) -> Result<Series, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ProviderError::NotSupported {
            provider: "quotes-only",
            capability: "daily history",
        })
    }

    async fn quote(&self, _symbol: Symbol) -> Result<Quote, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ProviderError::NotSupported {
            provider: "quotes-only",
            capability: "quotes",
        })
    }
}

#[tokio::test]
async fn an_unsupported_capability_is_a_502_that_names_the_fix() {
    let provider = Arc::new(QuotesOnly::default());
    let mut config = market_config();
    config.retry.max_retries = 2;
    let app = TestApp::with(provider.clone(), config).await;

    let response = app.get("/v1/stocks/IBM/daily?days=5").await;
    let detail = response.problem(502);
    assert_eq!(
        detail,
        "quotes-only cannot serve daily history; configure a provider that can"
    );
    assert!(
        response.json()["type"]
            .as_str()
            .unwrap()
            .ends_with("upstream-not-supported")
    );
    // A definite answer: no retries despite max_retries = 2.
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);

    let detail = app.get("/v1/stocks/IBM/quote").await.problem(502);
    assert!(detail.contains("cannot serve quotes"), "{detail}");
}

/// The dry run checks the rule's symbol by reading its history, then replays that same read:
/// an upstream that cannot answer is asked once, not once for the check and again for the
/// replay.
#[tokio::test]
async fn a_dry_run_asks_an_upstream_that_cannot_answer_once() {
    let provider = Arc::new(QuotesOnly::default());
    let app = crate::accounts::App::with_provider(
        provider.clone(),
        web::auth::AuthSettings::default(),
        web::features::Features::default(),
    )
    .await;
    let token = app.user("dry-run@example.com").await;
    let rule =
        serde_json::json!({"symbol": "IBM", "kind": "above", "price": 100, "frequency": "once"});
    let response = app
        .send("POST", "/v1/alerts/backtest", Some(&token), Some(rule))
        .await;
    let detail = response.problem(502);
    assert!(detail.contains("cannot serve daily history"), "{detail}");
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}
