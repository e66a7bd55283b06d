//! Alpha Vantage behind the whole stack: every documented body classified into the right
//! status, nothing wrong cached, the breaker, stale copies and single-flight.

use std::sync::Arc;
use std::time::Duration;

use market::MarketConfig;
use wiremock::matchers::query_param;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, av_daily as daily, av_json as json, fixture, market_config};

/// Mounts `first` for one call, then the normal series; returns the server.
async fn failing_once(first: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    daily()
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    daily()
        .respond_with(json(fixture("daily_ok.json")))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

/// After the failure, the next request must reach the upstream again and succeed: the failure
/// was not cached.
async fn assert_recovers(app: &TestApp) {
    let response = app.get("/IBM/2").await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("x-stockd-cache"), Some("miss"));
}

#[tokio::test]
async fn a_normal_series_is_served_newest_first_with_an_exact_average() {
    let server = failing_once(json(fixture("daily_ok.json"))).await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    let response = app.get("/ibm/3").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-stockd-cache"), Some("miss"));
    let body = response.json();
    let dates: Vec<&str> = body["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2024-01-05", "2024-01-04", "2024-01-03"]);
    // (161.41 + 161.66 + 161.28) / 3 = 161.45 exactly.
    assert_eq!(body["average"].as_f64().unwrap(), 161.45);
    assert_eq!(
        app.get("/IBM/2").await.header("x-stockd-cache"),
        Some("hit")
    );
    let v1 = app.get("/v1/stocks/IBM/daily?days=1").await.json();
    assert_eq!(v1["source"], "alphavantage");
}

#[tokio::test]
async fn an_error_message_body_is_an_unknown_symbol_404_and_is_not_cached() {
    let server = failing_once(json(fixture("daily_error_message.json"))).await;
    // Not remembering unknown symbols per provider (the market tests cover that), so this
    // shows the read-through cache keeps no error.
    let config = MarketConfig {
        unknown_symbol_ttl: Duration::ZERO,
        ..market_config()
    };
    let app = TestApp::alphavantage(&server.uri(), config).await;
    let detail = app.get("/IBM/2").await.problem(404);
    assert!(detail.contains("IBM"), "{detail}");
    assert_recovers(&app).await;
}

#[tokio::test]
async fn a_note_body_is_a_rate_limit_503_with_retry_after() {
    let server = failing_once(json(fixture("daily_note.json"))).await;
    let app = TestApp::alphavantage(&server.uri(), minute_clock_config()).await;
    let response = app.get("/IBM/2").await;
    let detail = response.problem(503);
    assert!(detail.contains("rate limit"), "{detail}");
    assert!(
        response
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_minute_spent(&app, &server).await;
}

/// Market settings whose quota clock starts at 10:00:00 UTC, so a test (well under a minute)
/// never crosses into the next minute.
fn minute_clock_config() -> MarketConfig {
    MarketConfig {
        clock: market::Clock::tokio_from("2026-11-28T10:00:00Z".parse().unwrap()),
        ..market_config()
    }
}

/// After a rate limit, the provider is not asked again in the same minute: the next request
/// answers 503 with a Retry-After to the minute's end, without reaching the upstream.
async fn assert_minute_spent(app: &TestApp, server: &MockServer) {
    let response = app.get("/IBM/2").await;
    let detail = response.problem(503);
    assert!(detail.contains("per-minute"), "{detail}");
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_premium_refusal_of_full_history_falls_back_to_compact() {
    let server = MockServer::start().await;
    daily()
        .and(query_param("outputsize", "full"))
        .respond_with(json(fixture("daily_information_premium.json")))
        .expect(1)
        .mount(&server)
        .await;
    daily()
        .and(query_param("outputsize", "compact"))
        .respond_with(json(fixture("daily_ok.json")))
        .expect(2)
        .mount(&server)
        .await;
    let mut config = market_config();
    config.cache_ttl = Duration::ZERO; // every request goes upstream
    let app = TestApp::alphavantage(&server.uri(), config).await;
    assert_eq!(app.get("/IBM/2").await.status, 200);
    assert_eq!(
        app.get("/IBM/2").await.status,
        200,
        "the second fetch goes straight to compact"
    );
}

#[tokio::test]
async fn an_empty_series_is_a_no_data_404() {
    let server = failing_once(json(fixture("daily_empty_series.json"))).await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    let detail = app.get("/IBM/2").await.problem(404);
    assert!(detail.contains("no daily data"), "{detail}");
    assert_recovers(&app).await;
}

#[tokio::test]
async fn http_500_is_a_502_and_is_not_cached() {
    let server = failing_once(ResponseTemplate::new(500).set_body_string("oops")).await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    app.get("/IBM/2").await.problem(502);
    assert_recovers(&app).await;
}

#[tokio::test]
async fn malformed_json_is_a_502_and_is_not_cached() {
    let server = failing_once(json(fixture("daily_malformed.json"))).await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    app.get("/IBM/2").await.problem(502);
    assert_recovers(&app).await;
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_a_502_and_is_not_cached() {
    let slow = json(fixture("daily_ok.json")).set_delay(Duration::from_secs(3));
    let server = failing_once(slow).await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    let detail = app.get("/IBM/2").await.problem(502);
    assert!(detail.contains("in time"), "{detail}");
    assert_recovers(&app).await;
}

#[tokio::test]
async fn retryable_failures_are_retried_before_answering() {
    let server = failing_once(ResponseTemplate::new(503)).await;
    let mut config = market_config();
    config.retry.max_retries = 2;
    let app = TestApp::alphavantage(&server.uri(), config).await;
    let response = app.get("/IBM/2").await;
    assert_eq!(
        response.status,
        200,
        "the retry succeeded: {}",
        response.text()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_stale_copy_is_served_when_the_upstream_fails() {
    let server = MockServer::start().await;
    daily()
        .respond_with(json(fixture("daily_ok.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    daily()
        .respond_with(ResponseTemplate::new(500))
        .with_priority(2)
        .mount(&server)
        .await;
    let mut config = market_config();
    config.cache_ttl = Duration::ZERO; // always revalidate, so the second request goes upstream
    let app = TestApp::alphavantage(&server.uri(), config).await;
    assert_eq!(
        app.get("/IBM/2").await.header("x-stockd-cache"),
        Some("miss")
    );
    let response = app.get("/IBM/2").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-stockd-cache"), Some("stale"));
    assert_eq!(response.json()["prices"][0]["close"].as_f64(), Some(161.41));
    let v1 = app.get("/v1/stocks/IBM/daily?days=1").await;
    assert_eq!(v1.json()["stale"], true);
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_and_answers_503() {
    let server = MockServer::start().await;
    daily()
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    for _ in 0..3 {
        app.get("/IBM/2").await.problem(502);
    }
    let response = app.get("/IBM/2").await;
    let detail = response.problem(503);
    assert!(detail.contains("circuit breaker"), "{detail}");
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "no call while open"
    );
    let breakers = app.get("/circuit-breaker").await.json();
    assert_eq!(breakers["breakers"][0]["provider"], "alphavantage");
    assert_eq!(breakers["breakers"][0]["state"], "open");
    assert!(breakers["breakers"][0]["half_opens_at"].is_string());
}

#[tokio::test]
async fn unknown_symbols_never_open_the_breaker() {
    let server = MockServer::start().await;
    daily()
        .respond_with(json(fixture("daily_error_message.json")))
        .mount(&server)
        .await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    for _ in 0..10 {
        app.get("/NOPE/2").await.problem(404);
    }
    assert_eq!(
        app.get("/circuit-breaker").await.json()["breakers"][0]["state"],
        "closed"
    );
}

#[tokio::test]
async fn fifty_concurrent_requests_for_one_uncached_symbol_make_one_upstream_call() {
    let server = MockServer::start().await;
    daily()
        .respond_with(json(fixture("daily_ok.json")).set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let app = Arc::new(TestApp::alphavantage(&server.uri(), market_config()).await);
    let requests: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.get(&format!("/IBM/{}", i % 4 + 1)).await.status })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_upstream_quote_is_served_with_its_change() {
    let server = MockServer::start().await;
    Mock::given(query_param("function", "GLOBAL_QUOTE"))
        .respond_with(json(fixture("quote_ok.json")))
        .mount(&server)
        .await;
    let app = TestApp::alphavantage(&server.uri(), market_config()).await;
    let response = app.get("/v1/stocks/IBM/quote").await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["source"], "alphavantage");
    assert!(body["price"].as_f64().unwrap() > 0.0);
}
