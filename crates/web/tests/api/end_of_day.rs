//! `/v1/stocks/{symbol}/eod` never passes an old bar off as a later session: `session_date` is
//! the bar's own, the answer says how many sessions it is behind the one asked for, and a day
//! that has not come yet is refused. "Today" is New York's, on the injected clock.

use std::sync::Arc;

use chrono::NaiveDate;
use domain::TradingCalendar;
use market::{Clock, MarketConfig};

use crate::helpers::{TestApp, market_config};

/// The sample history (MSFT ends 2013-03-01) with the clock reading `utc`.
async fn sample_at(utc: &str) -> TestApp {
    let config = MarketConfig {
        clock: Clock::tokio_from(utc.parse().unwrap()),
        ..market_config()
    };
    TestApp::with(Arc::new(providers::sample::Sample::new()), config).await
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_day_years_after_the_history_gets_the_last_bar_with_its_own_date_and_how_far_behind() {
    let app = sample_at("2026-12-03T15:00:00Z").await;
    let response = app.get("/v1/stocks/MSFT/eod?date=2019-12-31").await;
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["requested_date"], "2019-12-31");
    assert_eq!(body["requested_session_date"], "2019-12-31");
    assert_eq!(body["session_date"], "2013-03-01", "the bar's own session");
    assert_eq!(body["bar"]["date"], "2013-03-01");
    assert_eq!(body["latest_stored_date"], "2013-03-01");
    let behind = TradingCalendar::NYSE
        .trading_days(day("2013-03-02"), day("2019-12-31"))
        .count();
    assert!(behind > 1000);
    assert_eq!(body["sessions_behind"], behind);
    assert_eq!(body["stale"], true, "not the session asked for");
}

#[tokio::test]
async fn without_a_date_the_latest_closed_session_in_new_york_is_asked_for() {
    // Monday 2013-03-04 10:00 in New York: the session of the day has not closed, so the one
    // asked for is Friday's, which is stored.
    let morning = sample_at("2013-03-04T15:00:00Z").await;
    let body = morning.get("/v1/stocks/MSFT/eod").await.json();
    assert_eq!(body["requested_date"], "2013-03-04");
    assert_eq!(body["requested_session_date"], "2013-03-01");
    assert_eq!(body["session_date"], "2013-03-01");
    assert_eq!(body["sessions_behind"], 0);
    assert_eq!(body["stale"], false);

    // After the close, Monday's session is the one asked for, and it is not stored.
    let evening = sample_at("2013-03-04T21:30:00Z").await;
    let body = evening.get("/v1/stocks/MSFT/eod").await.json();
    assert_eq!(body["requested_session_date"], "2013-03-04");
    assert_eq!(body["session_date"], "2013-03-01");
    assert_eq!(body["sessions_behind"], 1);
    assert_eq!(body["stale"], true);

    // 02:00 UTC on Saturday is still Friday evening in New York.
    let friday_night = sample_at("2013-03-02T02:00:00Z").await;
    let body = friday_night.get("/v1/stocks/MSFT/eod").await.json();
    assert_eq!(body["requested_date"], "2013-03-01");
    assert_eq!(body["session_date"], "2013-03-01");
    assert_eq!(body["stale"], false);
}

#[tokio::test]
async fn a_date_after_today_in_new_york_is_a_400_saying_so() {
    let app = sample_at("2013-03-04T15:00:00Z").await;
    let detail = app
        .get("/v1/stocks/MSFT/eod?date=2013-03-05")
        .await
        .problem(400);
    assert!(
        detail.contains("date") && detail.contains("future") && detail.contains("2013-03-04"),
        "{detail}"
    );
    app.get("/v1/stocks/MSFT/eod?date=2099-01-01")
        .await
        .problem(400);
    let today = app.get("/v1/stocks/MSFT/eod?date=2013-03-04").await;
    assert_eq!(today.status, 200, "{}", today.text());
    assert_eq!(today.json()["session_date"], "2013-03-01");
}

#[tokio::test]
async fn the_asked_session_itself_is_not_stale() {
    let app = sample_at("2026-12-03T15:00:00Z").await;
    for (asked, session) in [("2013-02-15", "2013-02-15"), ("2013-02-17", "2013-02-15")] {
        let body = app
            .get(&format!("/v1/stocks/IBM/eod?date={asked}"))
            .await
            .json();
        assert_eq!(body["session_date"], session, "{asked}");
        assert_eq!(body["requested_session_date"], session, "{asked}");
        assert_eq!(body["sessions_behind"], 0, "{asked}");
        assert_eq!(body["stale"], false, "{asked}");
        assert_eq!(body["latest_stored_date"], "2013-03-01");
    }
    let openapi = app.get("/openapi.json").await.json();
    let schema = &openapi["components"]["schemas"]["EodResponse"]["properties"];
    for field in [
        "requested_session_date",
        "sessions_behind",
        "latest_stored_date",
    ] {
        assert!(schema[field].is_object(), "OpenAPI lacks {field}: {schema}");
    }
}
