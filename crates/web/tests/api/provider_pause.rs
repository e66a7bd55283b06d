//! A provider's own limit, as it reports it: Alpha Vantage's documented daily-limit answer
//! pauses it until the limit resets (the next UTC midnight), in this process, after a restart
//! and in another replica on the same database, and the 503 says it was the provider's limit,
//! not a quota anyone configured.

use std::sync::Arc;

use market::{Clock, MarketConfig, QuotaLimits};
use store::{SqliteStore, Store};
use wiremock::MockServer;

use crate::helpers::{TestApp, av_daily as daily, av_json as json, fixture, market_config};

/// The free plan's quota (as `stockd` configures it by default) on a clock reading `utc`.
fn at(utc: &str) -> MarketConfig {
    let mut config = MarketConfig {
        clock: Clock::tokio_from(utc.parse().unwrap()),
        ..market_config()
    };
    config.quotas.insert(
        "alphavantage".into(),
        QuotaLimits {
            per_minute: 5,
            per_day: 25,
            reserved_per_minute: 1,
            reserved_per_day: 10,
        },
    );
    config
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn assert_daily_limit(detail: &str) {
    assert!(
        detail.contains("alphavantage") && detail.contains("daily request limit"),
        "{detail}"
    );
    assert!(detail.contains("2026-11-29T00:00:00Z"), "{detail}");
    assert!(
        !detail.contains("configured for this deployment") && !detail.contains("per-minute"),
        "the cause is the provider's own daily limit: {detail}"
    );
}

#[tokio::test]
async fn the_daily_limit_answer_pauses_the_provider_until_utc_midnight_across_restarts() {
    let server = MockServer::start().await;
    daily()
        .respond_with(json(fixture("daily_information_rate_limit.json")))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("stockd.db"))
            .await
            .unwrap(),
    );

    let app = TestApp::alphavantage_over(&server.uri(), at("2026-11-28T22:00:00Z"), store.clone());
    let refused = app.get("/IBM/2").await;
    assert_daily_limit(&refused.problem(503));
    assert_eq!(
        refused.json()["type"],
        "urn:stockd:problem:upstream-rate-limited"
    );
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (7199..=7200).contains(&retry_after),
        "until 00:00 UTC: {retry_after}"
    );

    // Other symbols are refused for the same reason, without a call.
    let other = app.get("/v1/stocks/MSFT/daily").await;
    assert_daily_limit(&other.problem(503));
    assert_eq!(calls(&server).await, 1);
    let providers = app.get("/v1/providers").await.json();
    let pause = &providers["providers"][0]["paused"];
    assert_eq!(pause["limit"], "per_day", "{providers}");
    assert_eq!(pause["until"], "2026-11-29T00:00:00Z");
    assert!(
        pause["detail"]
            .as_str()
            .unwrap()
            .contains("25 requests per day"),
        "{pause}"
    );

    // Five minutes later, in a restarted process (or another replica) on the same database:
    // still paused, still no call.
    let restarted =
        TestApp::alphavantage_over(&server.uri(), at("2026-11-28T22:05:00Z"), store.clone());
    let refused = restarted.get("/AAPL/2").await;
    assert_daily_limit(&refused.problem(503));
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((6899..=6900).contains(&retry_after), "{retry_after}");
    assert_eq!(calls(&server).await, 1);
    assert_eq!(
        restarted.get("/v1/providers").await.json()["providers"][0]["paused"]["limit"],
        "per_day"
    );

    // Past midnight the provider is asked again.
    server.reset().await;
    daily()
        .respond_with(json(fixture("daily_ok.json")))
        .mount(&server)
        .await;
    let next_day = TestApp::alphavantage_over(&server.uri(), at("2026-11-29T00:00:01Z"), store);
    let served = next_day.get("/IBM/2").await;
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(calls(&server).await, 1);
    assert!(next_day.get("/v1/providers").await.json()["providers"][0]["paused"].is_null());
}

#[tokio::test]
async fn a_spent_configured_quota_names_the_setting_not_the_provider() {
    let server = MockServer::start().await;
    daily()
        .respond_with(json(fixture("daily_ok.json")))
        .mount(&server)
        .await;
    let mut config = at("2026-11-28T22:00:00Z");
    config.quotas.insert(
        "alphavantage".into(),
        QuotaLimits {
            per_day: 1,
            ..QuotaLimits::UNLIMITED
        },
    );
    let app = TestApp::alphavantage(&server.uri(), config).await;
    assert_eq!(app.get("/IBM/2").await.status, 200);
    let detail = app.get("/MSFT/2").await.problem(503);
    assert!(
        detail.contains("quotas.alphavantage.per_day = 1")
            && detail.contains("configured for this deployment"),
        "{detail}"
    );
    assert!(!detail.contains("reported"), "{detail}");
}
