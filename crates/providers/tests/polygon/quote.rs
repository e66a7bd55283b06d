//! Previous close (`/prev`) as the quote: the last session's close, not a real-time price.

use domain::Price;
use providers::{MarketData, ProviderError};

use crate::helpers::{body, prev_call, start, symbol};

#[tokio::test]
async fn the_quote_is_the_previous_sessions_close_on_its_new_york_day() {
    let (server, provider) = start().await;
    prev_call("AAPL")
        .respond_with(body(200, "prev_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let quote = provider.quote(symbol("AAPL")).await.unwrap();

    assert_eq!(quote.symbol, symbol("AAPL"));
    assert_eq!(quote.price, "210.62".parse::<Price>().unwrap());
    // The bar starts at 2024-06-28 04:00 UTC, midnight EDT.
    assert_eq!(quote.trading_day.to_string(), "2024-06-28");
    assert_eq!(quote.previous_close, None);
    assert_eq!(quote.as_of, None);
    assert_eq!(quote.source, "polygon");
    server.verify().await;
}

#[tokio::test]
async fn an_empty_previous_close_is_no_data() {
    let (server, provider) = start().await;
    prev_call("NOPE")
        .respond_with(body(200, "prev_empty.json"))
        .mount(&server)
        .await;
    let error = provider.quote(symbol("NOPE")).await.unwrap_err();
    assert!(matches!(error, ProviderError::NoData { .. }), "{error:?}");
}

#[tokio::test]
async fn refusals_are_classified_for_quotes_too() {
    let (server, provider) = start().await;
    prev_call("AAPL")
        .respond_with(body(429, "rate_limited.json"))
        .mount(&server)
        .await;
    let error = provider.quote(symbol("AAPL")).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
}
