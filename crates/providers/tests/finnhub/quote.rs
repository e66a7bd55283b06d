//! `/quote`: parsing, the all-zero unknown-symbol answer, every documented refusal, HTTP
//! failures, and `daily`, which Finnhub cannot serve on current plans.

use std::time::Duration;

use domain::Price;
use providers::{MarketData, ProviderError};
use wiremock::matchers::query_param;
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{body, provider_at, quote_call, serve, start, symbol};

async fn quote_error(status: u16, fixture_name: &str) -> ProviderError {
    let (server, provider) = start().await;
    serve(&server, status, fixture_name).await;
    provider.quote(symbol("AAPL")).await.unwrap_err()
}

#[tokio::test]
async fn a_quote_has_the_exact_price_previous_close_time_and_eastern_trading_day() {
    let (server, provider) = start().await;
    quote_call()
        .and(query_param("symbol", "AAPL"))
        .respond_with(body(200, "quote_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let quote = provider.quote(symbol("aapl")).await.unwrap();

    assert_eq!(quote.symbol, symbol("AAPL"));
    assert_eq!(quote.price, "189.84".parse::<Price>().unwrap());
    assert_eq!(quote.previous_close, Some("188.38".parse().unwrap()));
    assert_eq!(quote.change().unwrap().to_string(), "1.46");
    // 1704488400 is 2024-01-05 21:00 UTC, 16:00 in New York.
    assert_eq!(quote.trading_day.to_string(), "2024-01-05");
    assert_eq!(
        quote.as_of.unwrap().to_rfc3339(),
        "2024-01-05T21:00:00+00:00"
    );
    assert_eq!(quote.source, "finnhub");
    server.verify().await;
}

#[tokio::test]
async fn an_all_zero_quote_is_an_unknown_symbol() {
    let error = quote_error(200, "quote_unknown_symbol.json").await;
    assert!(
        matches!(&error, ProviderError::UnknownSymbol { symbol: s, .. } if *s == symbol("AAPL")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_429_is_a_rate_limit_for_a_minute() {
    let error = quote_error(429, "quote_rate_limited.json").await;
    let ProviderError::RateLimited {
        detail,
        retry_after,
        ..
    } = &error
    else {
        panic!("expected RateLimited, got {error:?}");
    };
    assert!(detail.contains("API limit reached"), "{detail}");
    assert_eq!(*retry_after, Some(Duration::from_secs(60)));
    assert!(!error.is_provider_failure());
}

#[tokio::test]
async fn http_403_is_premium_only() {
    let error = quote_error(403, "quote_forbidden.json").await;
    assert!(
        matches!(&error, ProviderError::PremiumOnly { detail, .. } if detail.contains("access")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_401_is_unauthorized_and_a_provider_failure() {
    let error = quote_error(401, "quote_unauthorized.json").await;
    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(error.is_provider_failure());
}

#[tokio::test]
async fn http_500_is_a_retryable_upstream_failure() {
    let (server, provider) = start().await;
    quote_call()
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&server)
        .await;
    let error = provider.quote(symbol("AAPL")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("500")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn malformed_json_is_a_retryable_upstream_failure() {
    let error = quote_error(200, "quote_malformed.json").await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("malformed")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_quote_is_a_timeout() {
    let server = MockServer::start().await;
    quote_call()
        .respond_with(body(200, "quote_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let provider = provider_at(
        &format!("{}/api/v1", server.uri()),
        Duration::from_millis(200),
    );
    let error = provider.quote(symbol("AAPL")).await.unwrap_err();
    assert_eq!(
        error,
        ProviderError::Timeout {
            provider: "finnhub"
        }
    );
}

#[tokio::test]
async fn daily_is_not_supported_and_spends_no_request() {
    let (server, provider) = start().await;
    let error = provider.daily(symbol("AAPL")).await.unwrap_err();
    assert_eq!(
        error,
        ProviderError::NotSupported {
            provider: "finnhub",
            capability: "daily history"
        }
    );
    assert!(!error.is_retryable());
    assert!(!error.is_provider_failure());
    assert!(server.received_requests().await.unwrap().is_empty());
    assert_eq!(provider.name(), "finnhub");
}
