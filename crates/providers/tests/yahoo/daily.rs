//! Daily bars from the chart: columns to bars, null rows skipped, exchange-local days, adjusted
//! closes, and every documented failure.

use std::time::Duration;

use providers::{MarketData, ProviderError};
use wiremock::matchers::header_exists;
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{body, chart_call, price, provider_at, start, symbol};

async fn daily_error(response: ResponseTemplate) -> ProviderError {
    let (server, provider) = start().await;
    chart_call("AAPL", "10y")
        .respond_with(response)
        .mount(&server)
        .await;
    provider.daily(symbol("AAPL")).await.unwrap_err()
}

#[tokio::test]
async fn daily_bars_skip_null_rows_and_fall_on_the_exchange_day() {
    let (server, provider) = start().await;
    chart_call("AAPL", "10y")
        .and(header_exists("user-agent"))
        .respond_with(body(200, "chart_daily_ok.json"))
        .expect(1)
        .mount(&server)
        .await;

    let series = provider.daily(symbol("aapl")).await.unwrap();

    assert_eq!(series.source, "yahoo");
    let dates: Vec<String> = series.bars().iter().map(|b| b.date.to_string()).collect();
    // 2024-01-04 is all nulls; the July open (13:30 UTC) is dated with gmtoffset -5h: July 1.
    assert_eq!(dates, ["2024-01-02", "2024-01-03", "2024-07-01"]);
    let first = series.bars()[0];
    assert_eq!(first.open, price("187.15"));
    assert_eq!(first.high, price("188.44"));
    assert_eq!(first.low, price("183.89"));
    assert_eq!(first.close, price("185.64"));
    assert_eq!(first.volume, 82_488_700);
    assert_eq!(first.adj_close, Some(price("184.73")));
    // Float artefacts are kept as sent, to Price's nine decimals, not through f64.
    assert_eq!(series.bars()[2].open, price("212.089996338"));
    server.verify().await;
}

#[tokio::test]
async fn a_chart_without_timestamps_is_no_data() {
    let error = daily_error(body(200, "chart_empty.json")).await;
    assert!(
        matches!(
            error,
            ProviderError::NoData {
                provider: "yahoo",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn not_found_is_an_unknown_symbol_with_advice() {
    let error = daily_error(body(404, "chart_not_found.json")).await;
    let ProviderError::UnknownSymbol { symbol: s, detail } = &error else {
        panic!("expected UnknownSymbol, got {error:?}");
    };
    assert_eq!(*s, symbol("AAPL"));
    assert!(detail.contains("check the ticker"), "{detail}");
    assert!(!error.is_provider_failure());
}

#[tokio::test]
async fn a_plain_text_429_is_a_rate_limit_not_a_malformed_body() {
    let response = ResponseTemplate::new(429)
        .set_body_raw(crate::helpers::fixture("rate_limited.txt"), "text/plain");
    let error = daily_error(response).await;
    assert!(
        matches!(&error, ProviderError::RateLimited { detail, retry_after: None, .. }
            if detail.contains("Too Many Requests")),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn other_chart_errors_are_upstream_failures() {
    let error = daily_error(body(400, "chart_bad_request.json")).await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("Bad Request")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_500_and_malformed_json_are_retryable_upstream_failures() {
    let error = daily_error(ResponseTemplate::new(500).set_body_string("<html>oops</html>")).await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("500")),
        "{error:?}"
    );
    assert!(error.is_retryable());

    let error = daily_error(body(200, "chart_malformed.json")).await;
    assert!(
        matches!(&error, ProviderError::Upstream { detail, .. } if detail.contains("malformed")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    chart_call("AAPL", "10y")
        .respond_with(body(200, "chart_daily_ok.json").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let provider = provider_at(&server.uri(), Duration::from_millis(200));
    let error = provider.daily(symbol("AAPL")).await.unwrap_err();
    assert_eq!(error, ProviderError::Timeout { provider: "yahoo" });
}
