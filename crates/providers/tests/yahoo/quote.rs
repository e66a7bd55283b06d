//! Quotes from the chart's `meta` (`range=1d`).

use domain::Price;
use providers::{MarketData, ProviderError};

use crate::helpers::{body, chart_call, start, symbol};

#[tokio::test]
async fn a_quote_has_the_market_price_previous_close_time_and_exchange_day() {
    let (server, provider) = start().await;
    chart_call("AAPL", "1d")
        .respond_with(body(200, "chart_quote_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let quote = provider.quote(symbol("AAPL")).await.unwrap();

    assert_eq!(quote.symbol, symbol("AAPL"));
    assert_eq!(quote.price, "181.18".parse::<Price>().unwrap());
    assert_eq!(quote.previous_close, Some("181.91".parse().unwrap()));
    assert_eq!(quote.change().unwrap().to_string(), "-0.73");
    assert_eq!(quote.trading_day.to_string(), "2024-01-05");
    assert_eq!(
        quote.as_of.unwrap().to_rfc3339(),
        "2024-01-05T21:00:00+00:00"
    );
    assert_eq!(quote.source, "yahoo");
    server.verify().await;
}

#[tokio::test]
async fn an_unknown_symbol_quote_is_an_unknown_symbol() {
    let (server, provider) = start().await;
    chart_call("NOPE", "1d")
        .respond_with(body(404, "chart_not_found.json"))
        .mount(&server)
        .await;
    let error = provider.quote(symbol("NOPE")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::UnknownSymbol { symbol: s, .. } if *s == symbol("NOPE")),
        "{error:?}"
    );
}
