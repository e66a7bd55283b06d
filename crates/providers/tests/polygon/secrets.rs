//! The API key never leaves the provider: not in URLs, errors, `Debug` or logs.

use providers::MarketData;
use providers::polygon::PolygonConfig;
use wiremock::ResponseTemplate;

use crate::common::{self, Captured, Failure};
use crate::helpers::{KEY, body, daily_call, prev_call, provider_at, start, symbol};

/// Every failure the provider can produce, as (case, Display, Debug).
async fn all_failures() -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut record = |case: &str, error: providers::ProviderError| {
        failures.push(common::failure(case, &error));
    };
    for (status, fixture) in [
        (200, "daily_empty.json"),
        (429, "rate_limited.json"),
        (200, "rate_limited.json"),
        (401, "unauthorized.json"),
        (403, "not_authorized.json"),
        (200, "malformed.json"),
    ] {
        let (server, provider) = start().await;
        daily_call("AAPL")
            .respond_with(body(status, fixture))
            .mount(&server)
            .await;
        prev_call("AAPL")
            .respond_with(body(status, fixture))
            .mount(&server)
            .await;
        record(fixture, provider.daily(symbol("AAPL")).await.unwrap_err());
        record(fixture, provider.quote(symbol("AAPL")).await.unwrap_err());
    }

    let (server, provider) = start().await;
    daily_call("AAPL")
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("echo {KEY}")))
        .mount(&server)
        .await;
    record(
        "http 500",
        provider.daily(symbol("AAPL")).await.unwrap_err(),
    );

    failures.extend(
        common::transport_failures(
            provider_at,
            prev_call("AAPL"),
            body(200, "prev_ok.json"),
            symbol("AAPL"),
        )
        .await,
    );
    failures
}

#[tokio::test]
async fn no_error_display_or_debug_contains_the_api_key() {
    let failures = all_failures().await;
    assert_eq!(failures.len(), 15);
    common::assert_no_failure_shows(&failures, KEY);
}

#[tokio::test]
async fn the_key_travels_in_a_header_and_never_in_the_url() {
    let (server, provider) = start().await;
    prev_call("AAPL")
        .respond_with(body(200, "prev_ok.json"))
        .mount(&server)
        .await;
    provider.quote(symbol("AAPL")).await.unwrap();
    let request = common::only_request_without_key_in_url(&server, KEY).await;
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
}

#[test]
fn provider_and_config_debug_redact_the_api_key() {
    common::assert_provider_debug_redacts(provider_at, KEY);
    let config = PolygonConfig::new(KEY.into());
    let text = common::debug_without(&config, KEY);
    assert!(text.contains("https://api.polygon.io"), "{text}");
}

#[tokio::test]
async fn upstream_calls_are_logged_with_fields_and_without_the_key() {
    let captured = Captured::install();

    let (server, provider) = start().await;
    prev_call("AAPL")
        .respond_with(body(200, "prev_ok.json"))
        .mount(&server)
        .await;
    provider.quote(symbol("AAPL")).await.unwrap();
    assert!(!all_failures().await.is_empty());

    captured.assert_logged(
        KEY,
        &[
            "provider=\"polygon\"",
            "operation=\"quote\"",
            "symbol=AAPL",
            "status=200",
            "latency_ms=",
            "upstream call failed",
        ],
    );
}
