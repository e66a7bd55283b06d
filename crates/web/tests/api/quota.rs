//! Provider quotas at the edge: `/v1/providers` shows them, a spent one answers 503 with
//! `Retry-After`, and the quota metrics are exported.

use std::sync::Arc;

use market::{MarketConfig, QuotaLimits};

use crate::helpers::{TestApp, market_config};

/// The sample provider allowed `per_day` calls a day and no minute limit.
async fn sample_allowed(per_day: u64) -> TestApp {
    let mut config: MarketConfig = market_config();
    config.quotas.insert(
        "sample".into(),
        QuotaLimits {
            per_day,
            ..QuotaLimits::UNLIMITED
        },
    );
    TestApp::with(Arc::new(providers::sample::Sample::new()), config).await
}

#[tokio::test]
async fn providers_show_their_quota_limits_use_and_resets() {
    let app = sample_allowed(2).await;
    let body = app.get("/v1/providers").await.json();
    let quota = &body["providers"][0]["quota"];
    assert_eq!(quota["day"]["limit"], 2, "{quota}");
    assert_eq!(quota["day"]["used"], 0);
    assert_eq!(quota["day"]["remaining"], 2);
    let resets: chrono::DateTime<chrono::Utc> =
        quota["day"]["resets_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(resets.time(), chrono::NaiveTime::MIN, "days are UTC days");
    assert!(
        quota["minute"]["limit"].is_null(),
        "no minute limit: unlimited"
    );
    assert!(quota["minute"]["remaining"].is_null());
    assert!(quota["minute"]["resets_at"].is_string());

    assert_eq!(app.get("/GOOG/3").await.status, 200);
    let body = app.get("/v1/providers").await.json();
    let day = &body["providers"][0]["quota"]["day"];
    assert_eq!(
        (day["used"].as_u64(), day["remaining"].as_u64()),
        (Some(1), Some(1))
    );

    let openapi = app.get("/openapi.json").await.json();
    let schema = &openapi["components"]["schemas"]["QuotaWindowResponse"]["properties"];
    for field in ["limit", "used", "remaining", "resets_at"] {
        assert!(
            schema[field].is_object(),
            "OpenAPI lacks quota field {field}: {schema}"
        );
    }
}

#[tokio::test]
async fn a_spent_quota_answers_503_with_retry_after_until_the_reset() {
    let app = sample_allowed(1).await;
    assert_eq!(app.get("/v1/stocks/GOOG/daily?days=2").await.status, 200);

    let spent = app.get("/v1/stocks/IBM/daily?days=2").await;
    let detail = spent.problem(503);
    assert_eq!(
        spent.json()["type"],
        "urn:stockd:problem:upstream-quota-exhausted"
    );
    assert!(
        detail.contains("sample") && detail.contains("daily"),
        "{detail}"
    );
    assert!(detail.contains("resets at"), "{detail}");
    let retry_after: u64 = spent.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=86_400).contains(&retry_after),
        "until the next UTC midnight: {retry_after}"
    );
    assert_eq!(
        app.state.market().providers()[0].calls,
        1,
        "the spent provider was not called"
    );
    // What was cached before is still served.
    assert_eq!(app.get("/v1/stocks/GOOG/daily?days=2").await.status, 200);

    let metrics = app.get("/metrics").await.text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("stock_api_provider_quota_remaining{")
                && l.contains(r#"provider="sample""#)
                && l.contains(r#"window="day""#)),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("stock_api_provider_calls_skipped_total{")
                && l.contains(r#"reason="quota""#)),
        "{metrics}"
    );
}
