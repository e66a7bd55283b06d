//! The API key never leaves the provider: not in URLs, errors, `Debug` or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use providers::MarketData;
use providers::finnhub::FinnhubConfig;
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{KEY, body, provider_at, quote_call, serve, start, symbol};

/// Every failure the provider can produce, as (case, Display, Debug).
async fn all_failures() -> Vec<(String, String, String)> {
    let mut failures = Vec::new();
    let mut record = |case: &str, error: providers::ProviderError| {
        failures.push((case.to_owned(), error.to_string(), format!("{error:?}")));
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

    let slow = MockServer::start().await;
    quote_call()
        .respond_with(body(200, "quote_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&slow)
        .await;
    let impatient = provider_at(&slow.uri(), Duration::from_millis(200));
    record(
        "timeout",
        impatient.quote(symbol("AAPL")).await.unwrap_err(),
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = provider_at(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2));
    record(
        "connection refused",
        unreachable.quote(symbol("AAPL")).await.unwrap_err(),
    );
    failures
}

#[tokio::test]
async fn no_error_display_or_debug_contains_the_api_key() {
    let failures = all_failures().await;
    assert_eq!(failures.len(), 9);
    for (case, display, debug) in failures {
        assert!(!display.contains(KEY), "{case}: {display}");
        assert!(!debug.contains(KEY), "{case}: {debug}");
    }
}

#[tokio::test]
async fn the_key_travels_in_a_header_and_never_in_the_url() {
    let (server, provider) = start().await;
    serve(&server, 200, "quote_ok.json").await;
    provider.quote(symbol("AAPL")).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert!(
        !requests[0].url.as_str().contains(KEY),
        "{}",
        requests[0].url
    );
    assert_eq!(requests[0].headers["x-finnhub-token"], KEY);
}

#[test]
fn provider_and_config_debug_redact_the_api_key() {
    let provider = provider_at("http://127.0.0.1:1", Duration::from_secs(1));
    let text = format!("{provider:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("REDACTED"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");

    let config = FinnhubConfig::new(KEY.into());
    let text = format!("{config:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("https://finnhub.io/api/v1"), "{text}");
}

/// A log sink shared between the subscriber and the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn upstream_calls_are_logged_with_fields_and_without_the_key() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // Global: tracing caches per-callsite interest across threads (see tests/alphavantage).
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (server, provider) = start().await;
    serve(&server, 200, "quote_ok.json").await;
    provider.quote(symbol("AAPL")).await.unwrap();
    assert!(!all_failures().await.is_empty());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(KEY), "{logs}");
    for expected in [
        "provider=\"finnhub\"",
        "operation=\"quote\"",
        "symbol=AAPL",
        "status=200",
        "latency_ms=",
        "upstream call failed",
    ] {
        assert!(logs.contains(expected), "logs lack {expected:?}:\n{logs}");
    }
}
