//! `TIME_SERIES_DAILY`: parsing, every refusal body, HTTP failures and the premium fallback.

use std::time::Duration;

use providers::{MarketData, ProviderError};
use wiremock::matchers::query_param;
use wiremock::{MockServer, ResponseTemplate};

use crate::common;
use crate::helpers::{body, call, price, provider_at, serve, start, symbol};

async fn daily_error(fixture_name: &str) -> ProviderError {
    let (server, provider) = start().await;
    serve(&server, "TIME_SERIES_DAILY", fixture_name).await;
    provider.daily(symbol("IBM")).await.unwrap_err()
}

#[tokio::test]
async fn daily_bars_are_sorted_oldest_first_with_exact_values() {
    let (server, provider) = start().await;
    call("TIME_SERIES_DAILY")
        .and(query_param("symbol", "IBM"))
        .and(query_param("outputsize", "full"))
        .respond_with(body("daily_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let series = provider.daily(symbol("ibm")).await.unwrap();

    assert_eq!(series.symbol, symbol("IBM"));
    assert_eq!(series.source, "alphavantage");
    let dates: Vec<String> = series
        .bars()
        .iter()
        .map(|bar| bar.date.to_string())
        .collect();
    assert_eq!(
        dates,
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    );
    let last = series.latest().unwrap();
    assert_eq!(last.open, price("161.59"));
    assert_eq!(last.high, price("162.28"));
    assert_eq!(last.low, price("160.54"));
    assert_eq!(last.close, price("161.41"));
    assert_eq!(last.volume, 3_963_700);
    assert_eq!(last.adj_close, None);
    assert_eq!(series.bars()[1].close, price("161.28"));
    server.verify().await;
}

#[tokio::test]
async fn an_error_message_about_the_request_is_an_unknown_symbol_with_advice() {
    let error = daily_error("daily_error_message.json").await;
    let ProviderError::UnknownSymbol {
        symbol: got,
        detail,
    } = &error
    else {
        panic!("expected UnknownSymbol, got {error:?}");
    };
    assert_eq!(*got, symbol("IBM"));
    assert!(detail.contains("check the ticker"), "{detail}");
}

#[tokio::test]
async fn an_error_message_about_the_apikey_is_unauthorized() {
    let error = daily_error("daily_invalid_key.json").await;
    assert!(
        matches!(error, ProviderError::Unauthorized { .. }),
        "{error:?}"
    );
    assert!(error.is_provider_failure());
}

#[tokio::test]
async fn a_note_is_a_rate_limit() {
    let error = daily_error("daily_note.json").await;
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
    assert!(!error.is_provider_failure());
}

#[tokio::test]
async fn the_daily_quota_is_a_daily_rate_limit_not_a_premium_refusal() {
    let error = daily_error("daily_information_rate_limit.json").await;
    let ProviderError::RateLimited {
        retry_after, limit, ..
    } = &error
    else {
        panic!("expected RateLimited, got {error:?}");
    };
    assert_eq!(*limit, providers::RateLimit::PerDay);
    // Alpha Vantage does not say when its day resets: the read path decides (next UTC midnight).
    assert_eq!(*retry_after, None);
}

#[tokio::test]
async fn the_old_per_minute_note_is_a_per_minute_limit() {
    let error = daily_error("daily_note.json").await;
    assert!(
        matches!(error, ProviderError::RateLimited { limit: providers::RateLimit::PerMinute, retry_after: Some(d), .. } if d == Duration::from_secs(60)),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_empty_time_series_is_no_data() {
    let error = daily_error("daily_empty_series.json").await;
    assert!(
        matches!(
            error,
            ProviderError::NoData {
                provider: "alphavantage",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn truncated_json_is_a_malformed_upstream_answer() {
    let error = daily_error("daily_malformed.json").await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.starts_with("malformed response")),
        "{error:?}"
    );
}

#[tokio::test]
async fn json_without_a_time_series_is_a_malformed_upstream_answer() {
    let error = daily_error("quote_ok.json").await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("Time Series (Daily)")),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_rows_are_skipped_and_valid_ones_kept() {
    let (server, provider) = start().await;
    serve(&server, "TIME_SERIES_DAILY", "daily_invalid_row.json").await;
    let series = provider.daily(symbol("IBM")).await.unwrap();
    let dates: Vec<String> = series
        .bars()
        .iter()
        .map(|bar| bar.date.to_string())
        .collect();
    assert_eq!(dates, ["2024-01-05"]);
}

#[tokio::test]
async fn a_series_with_no_valid_row_is_an_upstream_failure() {
    let error = daily_error("daily_all_rows_invalid.json").await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("valid bar")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_500_is_an_upstream_failure_with_the_status() {
    let (server, provider) = start().await;
    call("TIME_SERIES_DAILY")
        .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
        .mount(&server)
        .await;
    let error = provider.daily(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("500")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    call("TIME_SERIES_DAILY")
        .respond_with(body("daily_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let provider = provider_at(&server.uri(), Duration::from_millis(200));
    let error = provider.daily(symbol("IBM")).await.unwrap_err();
    assert_eq!(
        error,
        ProviderError::Timeout {
            provider: "alphavantage"
        }
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_upstream_failure() {
    let provider = provider_at(&common::refused_url(), Duration::from_secs(2));
    let error = provider.daily(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("connect")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_premium_refusal_of_full_is_retried_once_with_compact_and_remembered() {
    let (server, provider) = start().await;
    call("TIME_SERIES_DAILY")
        .and(query_param("outputsize", "full"))
        .respond_with(body("daily_information_premium.json"))
        .expect(1)
        .mount(&server)
        .await;
    call("TIME_SERIES_DAILY")
        .and(query_param("outputsize", "compact"))
        .respond_with(body("daily_ok.json"))
        .expect(2)
        .mount(&server)
        .await;

    let first = provider.daily(symbol("IBM")).await.unwrap();
    let second = provider.daily(symbol("MSFT")).await.unwrap();

    assert_eq!(first.bars().len(), 4);
    assert_eq!(second.symbol, symbol("MSFT"));
    server.verify().await;
}

#[tokio::test]
async fn a_premium_refusal_of_compact_is_reported_not_retried_forever() {
    let (server, provider) = start().await;
    call("TIME_SERIES_DAILY")
        .respond_with(body("daily_information_premium.json"))
        .expect(2)
        .mount(&server)
        .await;
    let error = provider.daily(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::PremiumOnly { .. }),
        "{error:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_rate_limit_on_full_is_not_mistaken_for_a_premium_refusal() {
    let (server, provider) = start().await;
    serve(
        &server,
        "TIME_SERIES_DAILY",
        "daily_information_rate_limit.json",
    )
    .await;
    let error = provider.daily(symbol("IBM")).await.unwrap_err();
    assert!(
        matches!(error, ProviderError::RateLimited { .. }),
        "{error:?}"
    );
    // Still asks for full next time: only a premium refusal teaches it to use compact.
    server.reset().await;
    call("TIME_SERIES_DAILY")
        .and(query_param("outputsize", "full"))
        .respond_with(body("daily_ok.json"))
        .expect(1)
        .mount(&server)
        .await;
    provider.daily(symbol("IBM")).await.unwrap();
    server.verify().await;
}
