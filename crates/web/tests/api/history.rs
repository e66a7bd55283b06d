//! End-of-day lookups, deltas and multi-symbol calls on the bundled sample history.

use crate::helpers::{TestApp, csv_closes};

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
async fn a_window_without_trading_days_is_200_and_empty_on_daily_and_delta_alike() {
    let app = TestApp::sample().await;
    for window in [
        "from=2012-12-29&to=2012-12-30", // a weekend
        "from=2019-01-01",               // after the stored history ends
        "to=1999-12-31",                 // before it starts
    ] {
        let daily = app.get(&format!("/v1/stocks/MSFT/daily?{window}")).await;
        assert_eq!(daily.status, 200, "{window}: {}", daily.text());
        assert_eq!(daily.json()["count"], 0, "{window}");
        let delta = app.get(&format!("/v1/stocks/MSFT/delta?{window}")).await;
        assert_eq!(delta.status, 200, "{window}: {}", delta.text());
        let body = delta.json();
        assert_eq!(body["trading_days"], 0, "{window}");
        for field in [
            "start_date",
            "end_date",
            "start_close",
            "change",
            "high",
            "max_drawdown_percent",
        ] {
            assert!(body[field].is_null(), "{window}: {field} in {body}");
        }
        assert_eq!(body["source"], "sample");
    }
    app.get("/v1/stocks/MSFT/delta?from=2012-12-31&to=2012-12-01")
        .await
        .problem(400);
    // An unknown symbol is still a 404 on both.
    app.get("/v1/stocks/NOPE/delta?days=5").await.problem(404);
    app.get("/v1/stocks/NOPE/daily?days=5").await.problem(404);
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
async fn several_symbols_that_all_fail_answer_their_error_not_a_200_hit() {
    let app = TestApp::sample().await;
    for _ in 0..2 {
        let response = app.get("/v1/daily?symbols=NOPE,ZZZZ&days=2").await;
        let detail = response.problem(404);
        assert!(
            detail.contains("NOPE") && detail.contains("ZZZZ"),
            "{detail}"
        );
        assert_ne!(response.header("x-stockd-cache"), Some("hit"));
        let body = response.json();
        let failed: Vec<(&str, u64)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["symbol"].as_str().unwrap(), e["status"].as_u64().unwrap()))
            .collect();
        assert_eq!(failed, [("NOPE", 404), ("ZZZZ", 404)]);
        assert!(
            body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("sample")
        );
    }
}

#[tokio::test]
async fn several_symbols_are_a_hit_only_when_every_served_series_was() {
    let app = TestApp::sample().await;
    let first = app.get("/v1/daily?symbols=MSFT&days=1").await;
    assert_eq!(first.header("x-stockd-cache"), Some("miss"));
    let mixed = app.get("/v1/daily?symbols=MSFT,IBM&days=1").await;
    assert_eq!(
        mixed.header("x-stockd-cache"),
        Some("miss"),
        "IBM was loaded"
    );
    let cached = app.get("/v1/daily?symbols=MSFT,IBM&days=1").await;
    assert_eq!(cached.header("x-stockd-cache"), Some("hit"));
    // A failing symbol beside cached ones: 200, the errors listed, the served series all hits.
    let partial = app.get("/v1/daily?symbols=MSFT,NOPE&days=1").await;
    assert_eq!(partial.status, 200);
    assert_eq!(partial.header("x-stockd-cache"), Some("hit"));
    assert_eq!(partial.json()["errors"][0]["symbol"], "NOPE");
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
