//! Series rules over HTTP with the bundled data and no key: a new user creates an RSI alert
//! and a golden-cross alert, and their backtests list exactly the days an independent
//! computation over the bundled CSV finds; a signal alert backtests to the days the signal
//! history crosses its level; a bad series or parameter is a 422 naming it.

use domain::Price;
use indicators::{Candle, Indicator};
use serde_json::{Value, json};

use crate::accounts::App;
use crate::alerts::{create, id, owner};

/// `ticker`'s bundled history as an indicator reads it: (date, split-adjusted close), oldest
/// first, straight from the CSV file (adjusted closes held at the store's 1e-9 precision).
fn adjusted_closes(ticker: &str) -> Vec<(String, f64)> {
    use std::io::Read;
    let path = format!(
        "{}/../providers/data/stocks.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut rows: Vec<(String, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            let adjusted: Price = cols[7].parse().unwrap();
            (cols[0] == ticker).then(|| (cols[1].to_owned(), adjusted.to_f64()))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn values(indicator: &str, closes: &[(String, f64)]) -> Vec<Option<f64>> {
    let indicator: Indicator = indicator.parse().unwrap();
    let candles: Vec<Candle> = closes.iter().map(|(_, c)| Candle::from_close(*c)).collect();
    indicator.batch(&candles).swap_remove(0)
}

/// The days on which `a` goes from at or below `b` to strictly above it (`up`), or from at or
/// above to strictly below; a day without both values on it and the day before never counts.
fn crossings(
    closes: &[(String, f64)],
    a: &[Option<f64>],
    b: &[Option<f64>],
    up: bool,
) -> Vec<String> {
    let mut days = Vec::new();
    for i in 1..closes.len() {
        let (Some(a0), Some(a1), Some(b0), Some(b1)) = (a[i - 1], a[i], b[i - 1], b[i]) else {
            continue;
        };
        let crossed = if up {
            a0 <= b0 && a1 > b1
        } else {
            a0 >= b0 && a1 < b1
        };
        if crossed {
            days.push(closes[i].0.clone());
        }
    }
    days
}

async fn backtest_dates(app: &App, token: &str, rule: &Value) -> Vec<String> {
    let answer = app
        .send(
            "POST",
            &format!("/v1/alerts/{}/backtest", id(rule)),
            Some(token),
            None,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = answer.json();
    assert_eq!(answer["source"], "sample");
    answer["fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fire| fire["date"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_rsi_alert_backtests_to_the_days_the_bundled_rsi_falls_below_30() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let rule = create(
        &app,
        &ada,
        json!({"symbol": "AAPL", "kind": "crosses_down", "series": "rsi:14", "value": 30,
               "frequency": "every_time", "cooldown": "1h", "channels": [ada.channel]}),
    )
    .await;
    assert_eq!(rule["series"], "rsi:14");
    assert_eq!(rule["value"], 30.0);
    let closes = adjusted_closes("AAPL");
    let rsi = values("rsi:14", &closes);
    let expected = crossings(&closes, &rsi, &vec![Some(30.0); closes.len()], false);
    // As a plain Wilder RSI in a few lines of Python over the same CSV counts them too.
    assert_eq!(expected.len(), 17, "{expected:?}");
    assert_eq!(
        (expected[0].as_str(), expected[16].as_str()),
        ("2000-09-29", "2013-01-25")
    );
    assert_eq!(backtest_dates(&app, &ada.token, &rule).await, expected);
}

#[tokio::test]
async fn a_golden_cross_alert_backtests_to_the_days_sma50_crosses_above_sma200() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let rule = create(
        &app,
        &ada,
        json!({"symbol": "MSFT", "kind": "crosses_up", "series": "sma:50", "other": "sma:200",
               "frequency": "once_per_day", "channels": [ada.channel]}),
    )
    .await;
    let closes = adjusted_closes("MSFT");
    let expected = crossings(
        &closes,
        &values("sma:50", &closes),
        &values("sma:200", &closes),
        true,
    );
    assert_eq!(
        expected,
        [
            "2001-05-16",
            "2001-12-19",
            "2002-12-10",
            "2003-05-21",
            "2003-08-04",
            "2004-07-06",
            "2005-08-12",
            "2006-09-28",
            "2007-10-26",
            "2009-06-16",
            "2010-12-22",
            "2011-09-01",
            "2011-10-20"
        ]
    );
    // Nothing before the 200-day average exists can be a crossing.
    assert!(expected[0] > closes[199].0, "{expected:?}");
    assert_eq!(backtest_dates(&app, &ada.token, &rule).await, expected);
}

#[tokio::test]
async fn a_bad_series_is_refused_naming_the_field_and_what_is_valid() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let cases = [
        (
            json!({"symbol": "MSFT", "kind": "above", "series": "rsx:14", "value": 3}),
            "series: unknown indicator `rsx`",
        ),
        (
            json!({"symbol": "MSFT", "kind": "crosses_up", "series": "sma:50", "other": "sma:5000"}),
            "other: `sma` parameter `period` must be 2..=1000",
        ),
        (
            json!({"symbol": "MSFT", "kind": "above", "series": "sentiment", "value": 1.5}),
            "value: must be between -1 and 1 for series sentiment",
        ),
        (
            json!({"symbol": "MSFT", "kind": "crosses_down", "series": "sentiment", "other": "sma:50"}),
            "other: cannot cross sentiment with sma:50",
        ),
        (
            json!({"symbol": "MSFT", "kind": "crosses_up", "series": "signal", "other": "rsi:14"}),
            "other: cannot cross signal with rsi:14",
        ),
        (
            json!({"symbol": "MSFT", "kind": "below", "series": "signal", "value": 30}),
            "value: must be between -1 and 1 for series signal",
        ),
        (
            json!({"symbol": "MSFT", "kind": "above", "series": "sma:50", "other": "sma:200"}),
            "other: applies only to kinds crosses_up",
        ),
        (
            json!({"symbol": "MSFT", "kind": "moves_up_pct", "percent": 5, "window_days": 1,
                   "series": "rsi:14"}),
            "series: unknown field",
        ),
    ];
    for (body, start) in cases {
        let detail = app
            .send("POST", "/v1/alerts", Some(&ada.token), Some(body))
            .await
            .problem(422);
        assert!(detail.starts_with(start), "{detail}");
        if start.contains("unknown indicator") {
            // Every valid indicator is listed with its parameters' ranges.
            assert!(
                detail.contains("rsi[:period 2..=1000 (default 14)]"),
                "{detail}"
            );
        }
    }
}

#[tokio::test]
async fn a_signal_alert_backtests_to_the_days_the_signal_history_crosses_its_level() {
    let app = App::new().await;
    let ada = owner(&app, "ada@example.com").await;
    let rule = create(
        &app,
        &ada,
        json!({"symbol": "MSFT", "kind": "crosses_down", "series": "signal", "value": -0.2,
               "frequency": "every_time", "cooldown": "1h", "channels": [ada.channel]}),
    )
    .await;
    assert_eq!(rule["series"], "signal");
    let history = app
        .send(
            "GET",
            "/v1/stocks/MSFT/signal/history",
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text());
    let history = history.json();
    let days: Vec<(String, f64)> = history["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["day"].as_str().unwrap().to_owned(),
                s["score"].as_f64().unwrap(),
            )
        })
        .collect();
    let scores: Vec<Option<f64>> = days.iter().map(|(_, score)| Some(*score)).collect();
    let expected = crossings(&days, &scores, &vec![Some(-0.2); days.len()], false);
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(backtest_dates(&app, &ada.token, &rule).await, expected);
}
