//! `GLOBAL_QUOTE`: parsing, the empty answer for unknown symbols and shared refusal handling.

use std::time::Duration;

use domain::Price;
use providers::{MarketData, ProviderError};
use wiremock::MockServer;
use wiremock::matchers::query_param;

use crate::helpers::{body, call, provider_at, serve, start, symbol};

#[tokio::test]
async fn a_quote_has_the_exact_price_previous_close_and_trading_day() {
    let (server, provider) = start().await;
    call("GLOBAL_QUOTE")
        .and(query_param("symbol", "IBM"))
        .respond_with(body("quote_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let quote = provider.quote(symbol("IBM")).await.unwrap();

    assert_eq!(quote.symbol, symbol("IBM"));
    assert_eq!(quote.price, "161.41".parse::<Price>().unwrap());
    assert_eq!(
        quote.previous_close,
        Some("161.66".parse::<Price>().unwrap())
    );
    assert_eq!(quote.trading_day.to_string(), "2024-01-05");
    assert_eq!(quote.change().unwrap().to_string(), "-0.25");
    assert_eq!(quote.as_of, None);
    assert_eq!(quote.source, "alphavantage");
    server.verify().await;
}

#[tokio::test]
async fn an_empty_global_quote_is_an_unknown_symbol() {
    let (server, provider) = start().await;
    serve(&server, "GLOBAL_QUOTE", "quote_empty.json").await;
    let error = provider.quote(symbol("NOPE")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::UnknownSymbol { symbol: s, .. } if *s == symbol("NOPE")),
        "{error:?}"
    );
}

#[tokio::test]
async fn refusals_are_classified_for_quotes_too() {
    let (server, provider) = start().await;
    serve(&server, "GLOBAL_QUOTE", "daily_information_rate_limit.json").await;
    let error = provider.quote(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_quote_body_without_a_global_quote_is_malformed() {
    let (server, provider) = start().await;
    serve(&server, "GLOBAL_QUOTE", "daily_ok.json").await;
    let error = provider.quote(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("Global Quote")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_quote_is_a_timeout() {
    let server = MockServer::start().await;
    call("GLOBAL_QUOTE")
        .respond_with(body("quote_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let provider = provider_at(&server.uri(), Duration::from_millis(200));
    let error = provider.quote(symbol("IBM")).await.unwrap_err();
    assert_eq!(
        error,
        ProviderError::Timeout {
            provider: "alphavantage"
        }
    );
}
