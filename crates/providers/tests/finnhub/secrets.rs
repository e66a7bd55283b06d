//! The API key never leaves the provider: not in URLs, errors, `Debug` or logs.

use providers::MarketData;
use providers::finnhub::FinnhubConfig;
use wiremock::ResponseTemplate;

use crate::common::{self, Captured, Failure};
use crate::helpers::{KEY, body, provider_at, quote_call, serve, start, symbol};

/// Every failure the provider can produce, as (case, Display, Debug).
async fn all_failures() -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut record = |case: &str, error: providers::ProviderError| {
        failures.push(common::failure(case, &error));
    };
    for (status, fixture) in [
        (200, "quote_unknown_symbol.json"),
        (429, "quote_rate_limited.json"),
        (403, "quote_forbidden.json"),
        (401, "quote_unauthorized.json"),
        (200, "quote_malformed.json"),
    ] {
        let (server, provider) = start().await;
        serve(&server, status, fixture).await;
        record(fixture, provider.quote(symbol("AAPL")).await.unwrap_err());
    }

    let (server, provider) = start().await;
    quote_call()
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("echo {KEY}")))
        .mount(&server)
        .await;
    record(
        "http 500",
        provider.quote(symbol("AAPL")).await.unwrap_err(),
    );
    record("daily", provider.daily(symbol("AAPL")).await.unwrap_err());

    failures.extend(
        common::transport_failures(
            // The mock answers under /api/v1, like Finnhub itself.
            |uri: &str, timeout| provider_at(&format!("{uri}/api/v1"), timeout),
            quote_call(),
            body(200, "quote_ok.json"),
            symbol("AAPL"),
        )
        .await,
    );
    failures
}

#[tokio::test]
async fn no_error_display_or_debug_contains_the_api_key() {
    let failures = all_failures().await;
    assert_eq!(failures.len(), 9);
    common::assert_no_failure_shows(&failures, KEY);
}

#[tokio::test]
async fn the_key_travels_in_a_header_and_never_in_the_url() {
    let (server, provider) = start().await;
    serve(&server, 200, "quote_ok.json").await;
    provider.quote(symbol("AAPL")).await.unwrap();
    let request = common::only_request_without_key_in_url(&server, KEY).await;
    assert_eq!(request.headers["x-finnhub-token"], KEY);
}

#[test]
fn provider_and_config_debug_redact_the_api_key() {
    common::assert_provider_debug_redacts(provider_at, KEY);
    let config = FinnhubConfig::new(KEY.into());
    let text = common::debug_without(&config, KEY);
    assert!(text.contains("https://finnhub.io/api/v1"), "{text}");
}

#[tokio::test]
async fn upstream_calls_are_logged_with_fields_and_without_the_key() {
    let captured = Captured::install();

    let (server, provider) = start().await;
    serve(&server, 200, "quote_ok.json").await;
    provider.quote(symbol("AAPL")).await.unwrap();
    assert!(!all_failures().await.is_empty());

    captured.assert_logged(
        KEY,
        &[
            "provider=\"finnhub\"",
            "operation=\"quote\"",
            "symbol=AAPL",
            "status=200",
            "latency_ms=",
            "upstream call failed",
        ],
    );
}
