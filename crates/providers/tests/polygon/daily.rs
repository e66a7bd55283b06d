//! Daily aggregates: the request, parsing (JSON numbers, DST-aware trading days), empty
//! ranges, every documented refusal and HTTP failures.

use std::time::Duration;

use providers::{MarketData, ProviderError};
use wiremock::matchers::query_param;
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{body, daily_call, price, provider_at, start, symbol};

async fn daily_error(status: u16, fixture_name: &str) -> ProviderError {
    let (server, provider) = start().await;
    daily_call("AAPL")
        .respond_with(body(status, fixture_name))
        .mount(&server)
        .await;
    provider.daily(symbol("AAPL")).await.unwrap_err()
}

#[tokio::test]
async fn daily_bars_are_unadjusted_exact_and_dated_in_new_york() {
    let (server, provider) = start().await;
    daily_call("AAPL")
        .and(query_param("adjusted", "false"))
        .and(query_param("sort", "asc"))
        .and(query_param("limit", "50000"))
        .respond_with(body(200, "daily_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let series = provider.daily(symbol("aapl")).await.unwrap();

    assert_eq!(series.symbol, symbol("AAPL"));
    assert_eq!(series.source, "polygon");
    let dates: Vec<String> = series.bars().iter().map(|b| b.date.to_string()).collect();
    // The July bar starts at 04:00 UTC (midnight EDT): a fixed UTC-5 would date it June 30.
    assert_eq!(dates, ["2024-01-02", "2024-01-03", "2024-07-01"]);
    let first = series.bars()[0];
    assert_eq!(first.open, price("187.15"));
    assert_eq!(first.high, price("188.44"));
    assert_eq!(first.low, price("183.89"));
    assert_eq!(first.close, price("185.64"));
    assert_eq!(first.volume, 82_488_700);
    assert_eq!(first.adj_close, None);
    // Volumes sent as `58414500.0` and `4.1234e7` are whole numbers too.
    assert_eq!(series.bars()[1].volume, 58_414_500);
    assert_eq!(series.bars()[2].volume, 41_234_000);
    server.verify().await;
}

#[tokio::test]
async fn an_empty_range_is_no_data() {
    let error = daily_error(200, "daily_empty.json").await;
    assert!(
        matches!(&error, ProviderError::NoData { provider: "polygon", symbol: s } if *s == symbol("AAPL")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_inconsistent_row_is_skipped_and_the_rest_kept() {
    let (server, provider) = start().await;
    daily_call("AAPL")
        .respond_with(body(200, "daily_invalid_row.json"))
        .mount(&server)
        .await;
    let series = provider.daily(symbol("AAPL")).await.unwrap();
    assert_eq!(series.bars().len(), 1);
    assert_eq!(series.bars()[0].date.to_string(), "2024-01-02");
}

#[tokio::test]
async fn http_429_is_a_rate_limit_for_a_minute_unless_retry_after_says_otherwise() {
    let error = daily_error(429, "rate_limited.json").await;
    assert!(
        matches!(&error, ProviderError::RateLimited { retry_after: Some(d), detail, .. }
            if d.as_secs() == 60 && detail.contains("maximum requests")),
        "{error:?}"
    );

    let (server, provider) = start().await;
    daily_call("AAPL")
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "12"))
        .mount(&server)
        .await;
    let error = provider.daily(symbol("AAPL")).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 12),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_rate_limit_body_sent_with_200_is_a_rate_limit_too() {
    let error = daily_error(200, "rate_limited.json").await;
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_api_key_is_unauthorized_with_401_or_200() {
    for status in [401, 200] {
        let error = daily_error(status, "unauthorized.json").await;
        assert!(
            matches!(&error, ProviderError::Unauthorized { detail, .. } if detail.contains("Unknown API Key")),
            "{status}: {error:?}"
        );
        assert!(error.is_provider_failure());
    }
}

#[tokio::test]
async fn not_authorized_is_premium_only_with_403_or_200() {
    for status in [403, 200] {
        let error = daily_error(status, "not_authorized.json").await;
        assert!(
            matches!(&error, ProviderError::PremiumOnly { detail, .. } if detail.contains("not entitled")),
            "{status}: {error:?}"
        );
    }
}

#[tokio::test]
async fn http_500_and_malformed_json_are_retryable_upstream_failures() {
    let (server, provider) = start().await;
    daily_call("AAPL")
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let error = provider.daily(symbol("AAPL")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("500")),
        "{error:?}"
    );
    assert!(error.is_retryable());

    let error = daily_error(200, "malformed.json").await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("malformed")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    daily_call("AAPL")
        .respond_with(body(200, "daily_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let provider = provider_at(&server.uri(), Duration::from_millis(200));
    let error = provider.daily(symbol("AAPL")).await.unwrap_err();
    assert_eq!(
        error,
        ProviderError::Timeout {
            provider: "polygon"
        }
    );
}
