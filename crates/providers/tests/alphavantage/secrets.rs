//! The API key never leaves the provider: not in errors, not in `Debug`, not in logs.

use std::io::Write;
use std::time::Duration;

use providers::MarketData;
use providers::alphavantage::AlphaVantageConfig;
use wiremock::ResponseTemplate;

use crate::common::{self, Captured, Failure};
use crate::helpers::{KEY, body, call, provider_at, serve, start, symbol};

/// Every failure the provider can produce, as (case, Display, Debug).
async fn all_failures() -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut record = |case: &str, error: providers::ProviderError| {
        failures.push(common::failure(case, &error));
    };
    for fixture in [
        "daily_error_message.json",
        "daily_invalid_key.json",
        "daily_note.json",
        "daily_information_rate_limit.json",
        "daily_information_premium.json",
        "daily_empty_series.json",
        "daily_malformed.json",
        "daily_all_rows_invalid.json",
        "quote_empty.json",
    ] {
        let (server, provider) = start().await;
        serve(&server, "TIME_SERIES_DAILY", fixture).await;
        serve(&server, "GLOBAL_QUOTE", fixture).await;
        record(fixture, provider.daily(symbol("IBM")).await.unwrap_err());
        record(fixture, provider.quote(symbol("IBM")).await.unwrap_err());
    }

    let (server, provider) = start().await;
    call("TIME_SERIES_DAILY")
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    record("http 500", provider.daily(symbol("IBM")).await.unwrap_err());

    // reqwest's own error for a malformed answer (not HTTP at all) carries the URL too.
    let garbage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let garbage_url = format!("http://{}", garbage.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = garbage.accept() {
            let _ = stream.write_all(b"this is not http\r\n\r\n");
        }
    });
    let confused = provider_at(&garbage_url, Duration::from_secs(2));
    record("not http", confused.quote(symbol("IBM")).await.unwrap_err());

    failures.extend(
        common::transport_failures(
            provider_at,
            call("GLOBAL_QUOTE"),
            body("quote_ok.json"),
            symbol("IBM"),
        )
        .await,
    );
    failures
}

#[tokio::test]
async fn no_error_display_or_debug_contains_the_api_key() {
    let failures = all_failures().await;
    assert_eq!(failures.len(), 22);
    common::assert_no_failure_shows(&failures, KEY);
    for (case, display, _) in failures {
        // Not even a redacted request URL: reqwest's URL is stripped, not merely scrubbed.
        assert!(!display.contains("apikey="), "{case}: {display}");
    }
}

#[test]
fn provider_and_config_debug_redact_the_api_key() {
    common::assert_provider_debug_redacts(provider_at, KEY);
    let config = AlphaVantageConfig::new(KEY.into());
    common::debug_without(&config, KEY);
}

#[tokio::test]
async fn upstream_calls_are_logged_with_fields_and_a_redacted_url() {
    let captured = Captured::install();

    let (server, provider) = start().await;
    serve(&server, "GLOBAL_QUOTE", "quote_ok.json").await;
    serve(
        &server,
        "TIME_SERIES_DAILY",
        "daily_information_premium.json",
    )
    .await;
    provider.quote(symbol("IBM")).await.unwrap();
    provider.daily(symbol("IBM")).await.unwrap_err();
    let failures = all_failures().await;
    assert!(!failures.is_empty());

    captured.assert_logged(
        KEY,
        &[
            "provider=\"alphavantage\"",
            "function=\"GLOBAL_QUOTE\"",
            "symbol=IBM",
            "status=200",
            "latency_ms=",
            "apikey=REDACTED",
            "upstream call failed",
        ],
    );
}
