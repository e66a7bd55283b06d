//! The Alpha Vantage key never leaks: not in logs (at every level, including the HTTP
//! client's), not in error bodies, not in metrics.

use std::time::Duration;

use wiremock::matchers::query_param;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::captured_logs::Captured;
use crate::helpers::{API_KEY, TestApp, fixture, market_config};

#[tokio::test]
async fn the_api_key_never_appears_in_logs_errors_or_metrics() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .json()
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    for (symbol, response) in [
        (
            "OK",
            ResponseTemplate::new(200).set_body_raw(fixture("daily_ok.json"), "application/json"),
        ),
        (
            "BAD",
            ResponseTemplate::new(200)
                .set_body_raw(fixture("daily_invalid_key.json"), "application/json"),
        ),
        ("FAIL", ResponseTemplate::new(500)),
        (
            "SLOW",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
        ),
        (
            "JUNK",
            ResponseTemplate::new(200)
                .set_body_raw(fixture("daily_malformed.json"), "application/json"),
        ),
    ] {
        Mock::given(query_param("symbol", symbol))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    let mut bodies = String::new();
    for symbol in ["OK", "BAD", "FAIL", "SLOW", "JUNK"] {
        bodies.push_str(&app.get(&format!("/{symbol}/3")).await.text());
        bodies.push_str(&app.get(&format!("/v1/stocks/{symbol}/quote")).await.text());
    }
    bodies.push_str(&app.get("/circuit-breaker").await.text());
    bodies.push_str(&app.get("/metrics").await.text());

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("alphavantage"),
        "the test did capture upstream logs"
    );
    assert!(!logs.contains(API_KEY), "key leaked into logs");
    assert!(!bodies.contains(API_KEY), "key leaked into a response");
    assert!(
        bodies.contains("rejected the configured API key"),
        "{bodies}"
    );
}
