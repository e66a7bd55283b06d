//! End-of-day lookups, deltas and multi-symbol calls on the bundled sample history.

use crate::helpers::{TestApp, csv_closes};

#[tokio::test]
async fn end_of_day_without_a_date_is_the_latest_session() {
    let app = TestApp::sample().await;
    let body = app.get("/v1/stocks/msft/eod").await.json();
    let closes = csv_closes("MSFT");
    let (last_date, last_close) = closes.last().unwrap();
    assert_eq!(body["bar"]["date"], last_date.as_str());
    assert_eq!(
        body["bar"]["close"].as_f64().unwrap(),
        last_close.parse::<f64>().unwrap()
    );
    assert_eq!(
        body["requested_date"],
        chrono::Utc::now().date_naive().to_string()
    );
    assert_eq!(body["source"], "sample");
}

#[tokio::test]
async fn end_of_day_on_a_holiday_or_weekend_is_the_session_before() {
    let app = TestApp::sample().await;
    for (asked, session) in [
        ("2012-12-25", "2012-12-24"), // Christmas → Christmas Eve (an early close)
        ("2012-10-30", "2012-10-26"), // Hurricane Sandy closed Mon and Tue
        ("2013-02-17", "2013-02-15"), // Sunday before Washington's Birthday
        ("2013-02-15", "2013-02-15"), // a trading day is itself
    ] {
        let body = app
            .get(&format!("/v1/stocks/IBM/eod?date={asked}"))
            .await
            .json();
        assert_eq!(body["session_date"], session, "{asked}");
        assert_eq!(body["bar"]["date"], session, "{asked}");
        assert_eq!(body["requested_date"], asked);
    }
}

#[tokio::test]
async fn end_of_day_before_the_history_starts_is_a_404_saying_where_it_starts() {
    let app = TestApp::sample().await;
    let detail = app
        .get("/v1/stocks/MSFT/eod?date=1999-06-01")
        .await
        .problem(404);
    assert!(detail.contains("history starts 2000-03-01"), "{detail}");
    app.get("/v1/stocks/MSFT/eod?date=yesterday")
        .await
        .problem(400);
}

#[tokio::test]
async fn delta_over_the_last_days_matches_the_raw_closes() {
    let app = TestApp::sample().await;
    let body = app.get("/v1/stocks/AAPL/delta?days=5").await.json();
    let closes = csv_closes("AAPL");
    let window = &closes[closes.len() - 5..];
    let first: f64 = window[0].1.parse().unwrap();
    let last: f64 = window[4].1.parse().unwrap();
    assert_eq!(body["start_date"], window[0].0.as_str());
    assert_eq!(body["end_date"], window[4].0.as_str());
    assert!((body["change"].as_f64().unwrap() - (last - first)).abs() < 1e-9);
    let pct = (last - first) / first * 100.0;
    assert!((body["change_percent"].as_f64().unwrap() - pct).abs() < 1e-4);
    assert_eq!(body["trading_days"], 5);
    assert!(body["max_drawdown_percent"].as_f64().unwrap() >= 0.0);
    assert!(body["high"].as_f64().unwrap() >= body["low"].as_f64().unwrap());
}

#[tokio::test]
async fn delta_over_a_date_range_counts_its_trading_days() {
    let app = TestApp::sample().await;
    // December 2012: 21 sessions minus Christmas = 20.
    let body = app
        .get("/v1/stocks/MSFT/delta?from=2012-12-01&to=2012-12-31")
        .await
        .json();
    assert_eq!(body["trading_days"], 20);
    assert_eq!(body["start_date"], "2012-12-03");
    assert_eq!(body["end_date"], "2012-12-31");
}

#[tokio::test]
async fn delta_needs_trading_days_and_a_sane_range() {
    let app = TestApp::sample().await;
    let detail = app
        .get("/v1/stocks/MSFT/delta?from=2012-12-29&to=2012-12-30")
        .await
        .problem(404);
    assert!(detail.contains("no trading days"), "{detail}");
    app.get("/v1/stocks/MSFT/delta?from=2012-12-31&to=2012-12-01")
        .await
        .problem(400);
}

#[tokio::test]
async fn several_symbols_come_back_in_one_call_with_per_symbol_errors() {
    let app = TestApp::sample().await;
    let response = app.get("/v1/daily?symbols=msft,IBM,NOPE,ibm&days=2").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    let symbols: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["IBM", "MSFT"], "sorted, duplicates folded");
    assert_eq!(body["results"][0]["bars"].as_array().unwrap().len(), 2);
    assert_eq!(body["errors"][0]["symbol"], "NOPE");
    assert_eq!(body["errors"][0]["status"], 404);
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("sample")
    );
}

#[tokio::test]
async fn several_symbols_reject_empty_oversized_or_malformed_lists() {
    let app = TestApp::sample().await;
    app.get("/v1/daily?symbols=").await.problem(400);
    app.get("/v1/daily").await.problem(400);
    let many: Vec<String> = (0..21).map(|i| format!("S{i}")).collect();
    let detail = app
        .get(&format!("/v1/daily?symbols={}", many.join(",")))
        .await
        .problem(400);
    assert!(detail.contains("1 to 20"), "{detail}");
    app.get("/v1/daily?symbols=MSFT,BAD%20ONE")
        .await
        .problem(400);
}

/// The sample provider, except that one symbol makes it panic (a bug stand-in).
#[derive(Debug)]
struct PanicsOn(&'static str);

#[async_trait::async_trait]
impl providers::MarketData for PanicsOn {
    fn name(&self) -> &'static str {
        "sample"
    }

    async fn daily(
        &self,
        symbol: domain::Symbol,
    ) -> Result<domain::Series, providers::ProviderError> {
        assert_ne!(symbol.as_str(), self.0, "simulated bug");
        providers::sample::Sample::new().daily(symbol).await
    }

    async fn quote(
        &self,
        symbol: domain::Symbol,
    ) -> Result<domain::Quote, providers::ProviderError> {
        providers::sample::Sample::new().quote(symbol).await
    }
}

#[tokio::test]
async fn a_symbol_whose_load_panics_is_reported_not_dropped() {
    let app = TestApp::with(
        std::sync::Arc::new(PanicsOn("IBM")),
        crate::helpers::market_config(),
    )
    .await;
    let response = app.get("/v1/daily?symbols=MSFT,IBM&days=1").await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["results"][0]["symbol"], "MSFT");
    assert_eq!(body["errors"][0]["symbol"], "IBM");
    assert_eq!(body["errors"][0]["status"], 500);
}
